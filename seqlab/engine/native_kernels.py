"""Each recurrent step's element-wise work as one compiled TensorFlow op, forward and backward (seqlab/engine/native/).

Why: with the input projection hoisted (seqlab/engine/fused_layers.py), what is left of a step on a CPU besides h @ U is
a dozen small element-wise ops (an LSTM's ~15), each a dispatch and a pass over memory; in bfloat16 TensorFlow's
element-wise kernels convert one value at a time. One op per step forward and one backward cut the bfloat16
training step of the 512×2 LSTM by about a quarter (`python -m bench training`). Where the CPU has
AVX-512 BF16 the library also holds whole-sequence ops (the loop itself, h @ U included, one op each way:
*_sequence.cc), which keep both cores busy through the small per-step products.

The op library is compiled with the machine's C++ compiler on first use (~20 s) into a per-user cache keyed by the
source, TensorFlow's version and the CPU (it is built for this CPU's instruction set), and loaded from there after.
Without a compiler, or with SEQLAB_NATIVE=0, `recurrent_step_ops()` returns None and the fused loop uses plain
TensorFlow ops: same maths, slower.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from filelock import FileLock

from seqlab import settings

NATIVE = Path(__file__).with_name("native")
SOURCES = sorted(NATIVE.glob("*.cc"))  # one file per cell; step_kernels.h holds what they share
BUILD_SECONDS_LIMIT = 300
_why_not: list[str] = []  # why the last load attempt gave None, for benchmarks and messages


def kernel_cache_dir() -> Path:
    """$SEQLAB_KERNEL_CACHE, else $XDG_CACHE_HOME/seqlab-kernels (seqlab/settings.py): apart from the corpus cache,
    which tests point at a fresh folder each, since a build is worth keeping."""
    return settings.kernel_cache()


def _cpu_signature() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return "unknown"
    flags = next((line for line in lines if line.startswith("flags")), "")
    model = next((line for line in lines if line.startswith("model name")), "")
    return model + flags


def _compile_commands(compiler: str, folder: Path, library: Path) -> list[list[str]]:
    """One compile per source (run side by side), then the link."""
    import tensorflow as tf

    objects = [folder / f"{source.stem}.o" for source in SOURCES]
    compiles = [[compiler, "-O3", "-march=native", "-fPIC", "-w", "-c", str(source), "-o", str(target),
                 *tf.sysconfig.get_compile_flags()] for source, target in zip(SOURCES, objects, strict=True)]
    return [*compiles, [compiler, "-shared", *map(str, objects), "-o", str(library), *tf.sysconfig.get_link_flags()]]


def _library_path(compiler: str) -> Path:
    import tensorflow as tf

    texts = [path.read_text() for path in sorted(NATIVE.iterdir()) if path.suffix in (".cc", ".h")]
    commands = " ".join(" ".join(command) for command in _compile_commands(compiler, Path("."), Path("out.so")))
    key = hashlib.sha256("\n".join([*texts, tf.__version__, compiler, _cpu_signature(), commands]).encode())
    return kernel_cache_dir() / f"recurrent_steps-{key.hexdigest()[:16]}.so"


def _run_all(commands: list[list[str]]) -> None:
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for command in commands]
    failures = []
    for process in processes:
        try:
            _, errors = process.communicate(timeout=BUILD_SECONDS_LIMIT)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
        if process.returncode != 0:
            failures.append(f"{process.args[0]} exited with {process.returncode}: {errors.strip()[-2000:]}")
    if failures:
        raise RuntimeError("; ".join(failures))


def _build(compiler: str, library: Path) -> None:
    """Compile into a scratch folder and rename the library into place, under a lock: concurrent processes build
    it once."""
    library.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(library.parent / ".lock")):
        if library.exists():
            return
        print("seqlab: compiling the recurrent step kernels for this CPU (once, ~20 s)…", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(dir=library.parent) as scratch:
            built = Path(scratch) / library.name
            *compiles, link = _compile_commands(compiler, Path(scratch), built)
            _run_all(compiles)
            _run_all([link])
            os.replace(built, library)
        for stale in library.parent.glob("recurrent_steps-*.so"):  # older sources' builds: never loaded again
            if stale != library:
                stale.unlink(missing_ok=True)


def library_file() -> Path:
    """The compiled op library for this machine, built first if it is not in the cache yet (raises if it cannot)."""
    compiler = shutil.which(os.environ.get("CXX") or "g++")
    if compiler is None:
        raise FileNotFoundError("no C++ compiler (g++) on this machine")
    library = _library_path(compiler)
    if not library.exists():
        _build(compiler, library)
    return library


@functools.lru_cache(maxsize=1)
def recurrent_step_ops():
    """The loaded op module (seqlab_{lstm,gru,simple_rnn}_{forward,backward}_step), or None (see why_not())."""
    _why_not.clear()
    if not settings.native_kernels_on():
        _why_not.append(f"switched off by {settings.NATIVE_VARIABLE}=0")
        return None
    import tensorflow as tf

    try:
        return tf.load_op_library(str(library_file()))
    except FileNotFoundError as exc:
        _why_not.append(str(exc))
    except (OSError, RuntimeError, subprocess.SubprocessError, tf.errors.OpError) as exc:
        _why_not.append(f"the kernels could not be built or loaded: {exc}")
    print(f"seqlab: {_why_not[-1]}; using plain TensorFlow ops (slower)", file=sys.stderr, flush=True)
    return None


def why_not() -> str:
    """Why recurrent_step_ops() returned None ("" if it did not, or was not called)."""
    return "; ".join(_why_not)
