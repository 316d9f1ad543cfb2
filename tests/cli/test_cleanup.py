"""`python -m seqlab cleanup`: a dry run by default, --apply removes, bad input is one line and exit code 2."""

from __future__ import annotations

import os

import pytest

from seqlab.cli.housekeeping import format_age, format_size
from seqlab.runs import run_folder
from tests.cli.test_main import assert_one_line_error, seqlab
from tests.runs.test_cleanup import make_old, make_run, snapshot, upload


@pytest.fixture
def root(tmp_path):
    root = run_folder.runs_root(tmp_path / "runs")
    used = upload(root, "used.txt", 40)
    upload(root, "unused.txt", 40)
    upload(root, "fresh.txt", 1)
    make_old(make_run(root, "old-run"), 40)
    make_old(make_run(root, "old-queued", "queued"), 40)
    make_run(root, "new-run", corpus=str(used))
    return root


def test_a_dry_run_lists_and_changes_nothing(root):
    before = snapshot(root)
    result = seqlab("cleanup", "--older-than", "30d", "--runs-root", str(root))
    assert result.returncode == 0, result.stderr
    assert snapshot(root) == before
    lines = result.stdout.splitlines()
    assert "dry run" in lines[0] and str(root) in lines[0]
    assert any(line.split()[0] == "run" and line.endswith("old-run") and "40 days old" in line for line in lines)
    assert any(line.split()[0] == "upload" and line.endswith(os.path.join(".uploads", "ab12", "unused.txt"))
               for line in lines)
    assert not any(name in result.stdout for name in ("used.txt ", "fresh", "old-queued", "new-run"))
    assert lines[-1].startswith("1 run and 1 upload, ") and "in all" in lines[-1] and "--apply" in lines[-1]


def test_apply_removes_the_old_unused_things(root):
    result = seqlab("cleanup", "--older-than", "30d", "--apply", "--runs-root", str(root))
    assert result.returncode == 0, result.stderr
    assert "Removed from" in result.stdout and "1 run and 1 upload" in result.stdout
    assert sorted(path.name for path in root.iterdir() if not path.name.startswith(".")) == ["new-run", "old-queued"]
    assert sorted(path.name for path in (root / ".uploads" / "ab12").iterdir()) == ["fresh.txt", "used.txt"]
    again = seqlab("cleanup", "--older-than", "30d", "--runs-root", str(root))
    assert again.returncode == 0 and again.stdout.startswith("Nothing to remove")


@pytest.mark.parametrize("age", ["30", "30x", "0d", "-1d", "thirty days"])
def test_a_bad_age_is_one_line_and_exit_code_2(root, age):
    before = snapshot(root)
    result = seqlab("cleanup", f"--older-than={age}", "--apply", "--runs-root", str(root))
    assert_one_line_error(result, f"'{age}' is not a duration", "30d")
    assert snapshot(root) == before and result.stdout == ""


def test_the_age_is_required():
    assert_one_line_error(seqlab("cleanup"), "--older-than")


def test_sizes_and_ages_read_well():
    assert [format_size(n) for n in (0, 999, 1_000, 1_234_567, 5e12)] == ["0 B", "999 B", "1.0 kB", "1.2 MB",
                                                                       "5,000.0 GB"]
    assert [format_age(s) for s in (5, 120, 7_200, 40 * 86_400)] == ["5 seconds", "2 minutes", "2 hours", "40 days"]
