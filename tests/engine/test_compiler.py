"""The C++ compiler is found without side effects (no installer dialog on a Mac), with flags for its family."""

from __future__ import annotations

import subprocess

import pytest

from seqlab.engine import compiler
from seqlab.engine.compiler import Compiler, CompilerMissingError, find_compiler

LINUX_GCC_FLAGS = ["-O3", "-march=native", "-fPIC", "-w"]  # what the kernels are tuned and benchmarked with


def test_the_probe_finds_this_machines_gcc_with_the_tuned_flags(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    found = find_compiler()
    assert found.family == "gcc" and found.name == "g++" and found.system == "Linux"
    assert found.compile_flags() == LINUX_GCC_FLAGS and found.link_flags() == ["-shared"]


def test_a_cxx_that_does_not_answer_its_version_is_no_compiler(monkeypatch, tmp_path):
    broken = tmp_path / "broken-c++"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CXX", str(broken))
    with pytest.raises(CompilerMissingError, match=r"no C\+\+ compiler found \(broken-c\+\+ --version exited"):
        find_compiler()
    monkeypatch.setenv("CXX", str(tmp_path / "missing"))
    with pytest.raises(CompilerMissingError, match="missing not found"):
        find_compiler()


class FakeMac:
    """platform.system() says Darwin; every program asked for is a /usr/bin shim; subprocess.run is recorded."""

    def __init__(self, monkeypatch, tools_installed: bool, version: str = "Apple clang version 15.0.0"):
        self.commands, self.tools_installed, self.version = [], tools_installed, version
        monkeypatch.delenv("CXX", raising=False)
        monkeypatch.setattr(compiler.platform, "system", lambda: "Darwin")
        monkeypatch.setattr(compiler.platform, "machine", lambda: "arm64")
        monkeypatch.setattr(compiler.shutil, "which", lambda name: f"/usr/bin/{name}")
        monkeypatch.setattr(compiler.subprocess, "run", self.run)

    def run(self, command, **kwargs):
        self.commands.append(command)
        if command[0] == "xcode-select":
            found = "/Library/Developer/CommandLineTools" if self.tools_installed else ""
            return subprocess.CompletedProcess(command, 0 if found else 2, found, "" if found else "error")
        assert self.tools_installed, f"{command} would open the Command Line Tools installer"
        return subprocess.CompletedProcess(command, 0, self.version, "")


def test_on_a_mac_without_command_line_tools_no_compiler_shim_is_touched(monkeypatch):
    mac = FakeMac(monkeypatch, tools_installed=False)
    with pytest.raises(CompilerMissingError, match="Command Line Tools are not installed"):
        find_compiler()
    assert mac.commands and all(command == ["xcode-select", "-p"] for command in mac.commands)


def test_on_a_mac_with_the_tools_apple_clang_gets_its_own_flags(monkeypatch):
    mac = FakeMac(monkeypatch, tools_installed=True)
    monkeypatch.setattr(compiler.Path, "is_dir", lambda self: True)  # the tools' folder, as a Mac has it
    found = find_compiler()
    assert found == Compiler("/usr/bin/clang++", "apple-clang", "Darwin", "arm64")
    assert mac.commands == [["xcode-select", "-p"], ["/usr/bin/clang++", "--version"]]
    assert "-march=native" not in found.compile_flags()  # Apple's clang on arm64 refuses it
    assert found.link_flags() == ["-shared", "-undefined", "dynamic_lookup"]
    assert Compiler("/usr/bin/clang++", "apple-clang", "Darwin", "x86_64").compile_flags() == LINUX_GCC_FLAGS


def test_on_windows_nothing_is_built_and_it_says_so(monkeypatch):
    monkeypatch.setattr(compiler.platform, "system", lambda: "Windows")
    monkeypatch.setattr(compiler.subprocess, "run", lambda *a, **k: pytest.fail("nothing may run on Windows"))
    with pytest.raises(CompilerMissingError, match="not built on Windows"):
        find_compiler()


def test_the_family_is_read_from_the_version_text():
    assert compiler._family("g++ (Debian 12.2.0-14) 12.2.0\nCopyright Free Software Foundation") == "gcc"
    assert compiler._family("Ubuntu clang version 18.1.3") == "clang"
    assert compiler._family("Apple clang version 15.0.0 (clang-1500.3.9.4)") == "apple-clang"
