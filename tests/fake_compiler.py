"""A stand-in C++ compiler for tests (not a test module): answers `--version` like g++ and fails every compile,
as a machine whose compiler cannot build the kernels; each call is appended to a file, to count them."""

from __future__ import annotations

from pathlib import Path

ERROR_LINE = "step_kernels.h:1:1: error: this stand-in compiler always fails"


def failing_compiler(folder: Path) -> tuple[Path, Path]:
    """(the script, the file each of its calls appends a line to)."""
    calls = folder / "compiler-calls.txt"
    script = folder / "fake-g++"
    script.write_text("#!/bin/sh\n"
                      f"echo \"$@\" >> '{calls}'\n"
                      'if [ "$1" = "--version" ]; then echo "g++ (stand-in) 12.2.0"; exit 0; fi\n'
                      f"echo 'In file included from somewhere:' >&2\necho '{ERROR_LINE}' >&2\nexit 1\n")
    script.chmod(0o755)
    return script, calls


def compile_calls(calls: Path) -> list[str]:
    """The calls that tried to build (not the --version probes)."""
    lines = calls.read_text().splitlines() if calls.exists() else []
    return [line for line in lines if line != "--version"]
