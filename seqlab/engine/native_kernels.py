"""Each recurrent step's element-wise work as one compiled TensorFlow op, forward and backward (seqlab/engine/native/).

Why: with the input projection hoisted (seqlab/engine/fused_layers.py), what is left of a step on a CPU besides h @ U is
a dozen small element-wise ops (an LSTM's ~15), each a dispatch and a pass over memory; in bfloat16 TensorFlow's
element-wise kernels convert one value at a time. One op per step forward and one backward cut the bfloat16
training step of the 512×2 LSTM by about a quarter (`python -m bench training`). Where the CPU has
AVX-512 BF16 the library also holds whole-sequence ops (the loop itself, h @ U included, one op each way:
*_sequence.cc), which keep both cores busy through the small per-step products.

The op library is compiled with the machine's C++ compiler on first use (~20 s) into a per-user cache keyed by the
source, TensorFlow's version, the compiler and the CPU (it is built for this CPU's instruction set), and loaded from
there after. The compiler is found without side effects (compiler.py: no installer dialog on a Mac without the
Command Line Tools; none on Windows). Without one, after a failed build, or with SEQLAB_NATIVE=0,
`recurrent_step_ops()` returns None and the fused loop uses plain TensorFlow ops: same maths, slower.

A failed build is remembered: `<cache>/recurrent_steps-<key>.failed` (JSON: the reason, the compiler, when), keyed
like the library, so later processes skip the build at once and give the same reason. Delete that file (or the
cache folder) to try again; a new source, TensorFlow or compiler has a new key and is tried anew.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from seqlab import settings
from seqlab.engine.compiler import Compiler, find_compiler

NATIVE = Path(__file__).with_name("native")
SOURCES = sorted(NATIVE.glob("*.cc"))  # one file per cell; step_kernels.h holds what they share
BUILD_SECONDS_LIMIT = 300
_why_not: list[str] = []  # why the last load attempt gave None, for benchmarks and messages
_announcers: list = []  # called with True when a build starts (or waits for another process's), False when it ends


class KernelBuildError(RuntimeError):
    """The compiler failed on the kernels (now, or in an earlier process: the .failed marker)."""


def kernel_cache_dir() -> Path:
    """$SEQLAB_KERNEL_CACHE, else $XDG_CACHE_HOME/seqlab-kernels (seqlab/settings.py): apart from the corpus cache,
    which tests point at a fresh folder each, since a build is worth keeping."""
    return settings.kernel_cache()


def _cpu_signature() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:  # macOS, Windows: no /proc
        return f"{platform.platform()} {platform.machine()} {platform.processor()}"
    flags = next((line for line in lines if line.startswith("flags")), "")
    model = next((line for line in lines if line.startswith("model name")), "")
    return model + flags


def _compile_commands(compiler: Compiler, folder: Path, library: Path) -> list[list[str]]:
    """One compile per source (run side by side), then the link (g++ on Linux: -O3 -march=native -fPIC -w)."""
    import tensorflow as tf

    objects = [folder / f"{source.stem}.o" for source in SOURCES]
    compiles = [[compiler.path, *compiler.compile_flags(), "-c", str(source), "-o", str(target),
                 *tf.sysconfig.get_compile_flags()] for source, target in zip(SOURCES, objects, strict=True)]
    return [*compiles, [compiler.path, *compiler.link_flags(), *map(str, objects), "-o", str(library),
                        *tf.sysconfig.get_link_flags()]]


def _library_path(compiler: Compiler) -> Path:
    import tensorflow as tf

    texts = [path.read_text() for path in sorted(NATIVE.iterdir()) if path.suffix in (".cc", ".h")]
    commands = " ".join(" ".join(command) for command in _compile_commands(compiler, Path("."), Path("out.so")))
    commands = commands.replace(str(NATIVE), "<sources>")  # a checkout and an installed copy share one build
    key = hashlib.sha256("\n".join([*texts, tf.__version__, compiler.path, _cpu_signature(), commands]).encode())
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
        raise KernelBuildError("\n".join(failures))


def _build(compiler: Compiler, library: Path) -> None:
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
        for stale in [*library.parent.glob("recurrent_steps-*.so"), *library.parent.glob("recurrent_steps-*.failed")]:
            if stale != library:  # older sources' builds, and failures of other keys: never read again
                stale.unlink(missing_ok=True)


def announce_build(callback=None) -> None:
    """Have `callback(True)` called when this process starts building the kernels (or waits for another's
    build), `callback(False)` when that ends: the worker says "preparing fast kernels". None: no one."""
    _announcers[:] = [callback] if callback else []


def _announce(building: bool) -> None:
    for callback in _announcers:
        try:
            callback(building)
        except OSError:  # a status that cannot be written must not stop the build
            pass


def _summary(error: str) -> str:
    """The line of a compiler's output that says what went wrong, short enough for the Train page."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    line = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
    return line if len(line) <= 200 else line[:199] + "…"


def _remembered_failure(marker: Path) -> str | None:
    try:
        return str(json.loads(marker.read_text(encoding="utf-8"))["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember_failure(marker: Path, compiler: Compiler, reason: str) -> None:
    record = {"reason": reason, "compiler": compiler.path, "family": compiler.family, "failed_at": time.time()}
    scratch = marker.with_name(f".{marker.name}.{os.getpid()}")
    try:
        scratch.write_text(json.dumps(record, indent=2), encoding="utf-8")
        os.replace(scratch, marker)
    except OSError:  # an unwritable cache: the next process tries again
        scratch.unlink(missing_ok=True)


def library_file() -> Path:
    """The compiled op library for this machine, built first if it is not in the cache yet. Raises
    CompilerMissingError (a FileNotFoundError) without a working compiler, KernelBuildError if the build fails now
    or failed before (remembered in the .failed marker)."""
    compiler = find_compiler()
    library = _library_path(compiler)
    if library.exists():
        return library
    marker = library.with_suffix(".failed")
    reason = _remembered_failure(marker)
    if reason is None:
        _announce(True)
        try:
            _build(compiler, library)
            return library
        except KernelBuildError as error:
            reason = str(error)
            print(f"seqlab: the kernel build failed: {reason}", file=sys.stderr, flush=True)
            _remember_failure(marker, compiler, reason)
        finally:
            _announce(False)
    raise KernelBuildError(f"the kernels could not be built with {compiler.name}: {_summary(reason)} "
                      f"(kept in {marker}; delete it to try again)")


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
    except (FileNotFoundError, KernelBuildError) as exc:  # CompilerMissingError is a FileNotFoundError
        _why_not.append(str(exc))
    except (OSError, RuntimeError, subprocess.SubprocessError, tf.errors.OpError) as exc:
        _why_not.append(f"the kernels could not be built or loaded: {exc}")
    print(f"seqlab: {_why_not[-1]}; using plain TensorFlow ops (slower)", file=sys.stderr, flush=True)
    return None


def why_not() -> str:
    """Why recurrent_step_ops() returned None ("" if it did not, or was not called)."""
    return "; ".join(_why_not)
