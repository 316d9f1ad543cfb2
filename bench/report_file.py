"""Where a benchmark's JSON goes: `--out`, else bench/results/<name>.json (not for --quick runs, whose figures
mean nothing), rewritten after every phase so that an interrupted run keeps what it measured."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from seqlab.errors import SeqlabError

RESULTS = Path(__file__).resolve().parent / "results"


def output_path(out: str | None, quick: bool, name: str) -> Path | None:
    """The file to write, or None (a quick run without --out); a folder is refused before anything runs."""
    path = Path(out) if out else (None if quick else RESULTS / f"{name}.json")
    if path is not None and path.is_dir():
        raise SeqlabError(f"--out {path} is a folder", f"a file path such as bench/results/{name}.json",
                          "give a file name inside that folder")
    return path


def writer(path: Path | None) -> Callable[[dict], None]:
    """write(report): the report as indented JSON at `path` (nothing when path is None)."""
    def write(report: dict) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return write


def merge_into(path: Path, key: str, payload: dict) -> Path:
    """Write `payload` under `key` of the JSON file at `path`, keeping every other key (several measurements,
    e.g. before and after a change, share one results file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        everything = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        everything = {}
    everything[key] = payload
    path.write_text(json.dumps(everything, indent=2) + "\n", encoding="utf-8")
    return path
