"""Standing in for Windows on Linux: seqlab without `fcntl` and `resource`, and with the portable process code.

The job runner's contract tests and the CLI's tests run again in a child pytest where every `import fcntl` or
`import resource` made by seqlab's own modules fails (a sitecustomize wraps the import statement; third-party
libraries keep theirs, as on Windows they bring their own), and SEQLAB_PORTABLE_PROCESSES=1 makes the job runner
start and end workers with psutil alone, without POSIX sessions or process groups. A stand-in compiler that
fails every build stands in for a Mac without the Command Line Tools: every run still trains, on standard
TensorFlow, and the build is tried once for all the workers of the run (remembered in a .failed marker).
"""

from __future__ import annotations

import os
import subprocess
import sys

from seqlab.engine import native_kernels
from tests.conftest import REPO
from tests.fake_compiler import compile_calls, failing_compiler

BLOCKER = '''
import builtins

_real_import = builtins.__import__


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if name in ("fcntl", "resource") and (importer == "seqlab" or importer.startswith("seqlab.")):
        raise ModuleNotFoundError(f"No module named {name!r} (blocked: standing in for Windows)", name=name)
    return _real_import(name, globals, locals, fromlist, level)


builtins.__import__ = _import
'''
CONTRACT_TESTS = ["tests/runs/test_jobs.py", "tests/cli/test_main.py", "tests/cli/test_training.py"]


def portable_environment(tmp_path) -> dict:
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCKER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "blocker"), str(REPO)]),
            "SEQLAB_PORTABLE_PROCESSES": "1"}


def test_the_blocker_blocks_seqlab_and_seqlab_still_imports(tmp_path):
    probe = ("from seqlab.runs import jobs, processes, run_folder\n"
             "import seqlab.cli.main, seqlab.engine.native_kernels\n"
             "assert processes.address_space_limiter(1 << 30) is None  # no resource: no limit, no error\n"
             "try:\n    exec('import fcntl', {'__name__': 'seqlab.probe'})\nexcept ModuleNotFoundError:\n"
             "    print('blocked')\n")
    result = subprocess.run([sys.executable, "-c", probe], env=portable_environment(tmp_path), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "blocked", result.stderr[-3000:]


def test_the_job_runner_and_the_cli_work_without_fcntl_resource_or_process_groups(tmp_path):
    compiler, calls = failing_compiler(tmp_path)
    env = {**portable_environment(tmp_path), "CXX": str(compiler), "SEQLAB_KERNEL_CACHE": str(tmp_path / "kernels")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
                             *CONTRACT_TESTS], env=env, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    markers = list((tmp_path / "kernels").glob("*.failed"))
    assert len(markers) == 1 and "stand-in compiler always fails" in markers[0].read_text()
    assert 0 < len(compile_calls(calls)) <= len(native_kernels.SOURCES) + 1  # one build attempt for every worker
