"""The C++ compiler the kernels are built with (native_kernels.py): found without side effects, flags per family.

Finding it never installs or prompts for anything. On macOS `/usr/bin/g++`, `clang++`, `c++` are shims that open
the Command Line Tools installer when those tools are missing, so a compiler in /usr/bin is touched only after
`xcode-select -p` (which never prompts) says the tools are there. Everywhere, a candidate must answer
`--version` within a few seconds. $CXX, when set, is the only candidate; else g++ then clang++ (macOS: clang++
first). Windows: no native build at all (the fused loop runs plain TensorFlow ops there).

Flags: GCC and Clang on Linux build with `-O3 -march=native` (the kernels are tuned for the CPU they run on);
Apple's clang on arm64 gets no architecture flag (it refuses `-march=native`; NEON is always there), and macOS
shared libraries link with `-undefined dynamic_lookup`.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROBE_SECONDS = 10
NO_COMPILER = "no C++ compiler found"
MAC_SHIM_FOLDER = "/usr/bin/"


class CompilerMissingError(FileNotFoundError):
    """No working C++ compiler here; str() says why, in words for the Train page."""


@dataclass(frozen=True)
class Compiler:
    path: str  # resolved by shutil.which
    family: str  # "gcc", "clang" or "apple-clang"
    system: str = "Linux"  # platform.system()
    machine: str = "x86_64"  # platform.machine()

    @property
    def name(self) -> str:
        return Path(self.path).name

    def compile_flags(self) -> list[str]:
        """Before the source: optimisation, the CPU's instruction set where the compiler takes it, PIC, quiet."""
        apple_arm = self.system == "Darwin" and self.machine in ("arm64", "aarch64")
        return ["-O3", *([] if apple_arm else ["-march=native"]), "-fPIC", "-w"]

    def link_flags(self) -> list[str]:
        """Before the objects: a shared library (macOS: TensorFlow's symbols resolved when Python loads it)."""
        return ["-shared", *(["-undefined", "dynamic_lookup"] if self.system == "Darwin" else [])]


def _command_line_tools_present() -> bool:
    """macOS: whether Apple's developer tools are installed, asked of `xcode-select -p` (never prompts)."""
    try:
        done = subprocess.run(["xcode-select", "-p"], capture_output=True, text=True, timeout=PROBE_SECONDS)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and bool(done.stdout.strip()) and Path(done.stdout.strip()).is_dir()


def _family(version_text: str) -> str:
    text = version_text.lower()
    if "apple" in text and "clang" in text:
        return "apple-clang"
    return "clang" if "clang" in text else "gcc"


def _probe(path: str, system: str) -> tuple[Compiler | None, str]:
    """(the compiler at `path`, "") if it answers --version, else (None, why not)."""
    if system == "Darwin" and path.startswith(MAC_SHIM_FOLDER) and not _command_line_tools_present():
        return None, "the Xcode Command Line Tools are not installed (`xcode-select --install` adds them)"
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=PROBE_SECONDS,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"{Path(path).name} --version did not answer within {PROBE_SECONDS} s"
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"{Path(path).name} cannot be run ({error})"
    if done.returncode != 0:
        return None, f"{Path(path).name} --version exited with {done.returncode}"
    return Compiler(path, _family(done.stdout + done.stderr), system, platform.machine()), ""


def find_compiler() -> Compiler:
    """The C++ compiler to build the kernels with; raises CompilerMissingError saying why there is none."""
    system = platform.system()
    if system == "Windows":
        raise CompilerMissingError("the compiled kernels are not built on Windows")
    wanted = os.environ.get("CXX")
    candidates = [wanted] if wanted else (["clang++", "g++"] if system == "Darwin" else ["g++", "clang++"])
    reasons = []
    for candidate in candidates:
        path = shutil.which(candidate)
        if path is None:
            reasons.append(f"{candidate} not found" + (" (it is $CXX)" if wanted else ""))
            continue
        compiler, reason = _probe(path, system)
        if compiler is not None:
            return compiler
        reasons.append(reason)
    raise CompilerMissingError(f"{NO_COMPILER} ({'; '.join(dict.fromkeys(reasons))})")
