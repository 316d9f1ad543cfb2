"""The house rules a newcomer can rely on: small modules that hold one idea, short functions, the pipeline in the
folder names. Counted over seqlab/ and bench/ (tests are exempt: a table of cases is long by nature)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
PIPELINE_PACKAGES = {"corpus", "encoding", "model", "engine", "train", "runs", "infer", "insight", "lessons",
                     "report", "cli", "ui"}
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "config.py", "config_fields.py", "presets.py", "settings.py",
                     "errors.py"}
SOURCES = sorted([*(REPO / "seqlab").rglob("*.py"), *(REPO / "bench").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPO)))
def test_module_and_function_sizes(path: Path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name} has {len(text.splitlines())} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}:{node.lineno} {node.name} has {length} lines"


def test_the_package_is_the_pipeline():
    package = REPO / "seqlab"
    folders = {path.name for path in package.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    modules = {path.name for path in package.glob("*.py")}
    assert folders == PIPELINE_PACKAGES and modules == TOP_LEVEL_MODULES


def test_tests_mirror_the_packages():
    assert PIPELINE_PACKAGES <= {path.name for path in (REPO / "tests").iterdir() if path.is_dir()}


def test_the_readme_reads_in_five_minutes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for link in ("docs/architecture.md", "docs/performance.md", "docs/performance-history.md"):
        assert link in readme and (REPO / link).is_file()
