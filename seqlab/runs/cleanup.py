"""Housekeeping of a runs root: uploads no run uses and runs nobody touched for a while (`python -m seqlab cleanup`).

`plan_cleanup` only looks (it writes nothing, not even a corrected status) and returns what would go, with sizes
and ages; `apply_plan` removes it, checking again as it goes:
  - an upload is a file anywhere under `<root>/.uploads/` (workspaces keep theirs in sub-folders), older than the
    cutoff, that no run's config.json names as its corpus, once the runs planned for removal are gone;
  - a run is an entry of the root whose newest file is older than the cutoff and that is not active (queued or
    training, states.ACTIVE). It goes through admin.delete_run, which refuses an active run and removes only the
    link of a run that lives elsewhere; that run's upload is kept this time (its folder still names it), but a later
    clean-up no longer sees the run.
The operator's tool: it acts on every run of the root, whoever owns it.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs import backends, run_folder, states
from seqlab.runs.admin import delete_run

UPLOADS = ".uploads"  # as in runs/launch.py: the dot-folder of stored uploads inside the runs root
UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
DURATION = re.compile(r"^\s*(\d{1,9})\s*([dhms])\s*$")


@dataclass(frozen=True)
class Item:
    """One thing to remove: an upload (its path) or a run (its entry in the root)."""

    kind: str  # "upload" or "run"
    path: Path
    size: int  # bytes freed: 0 for a linked run, whose folder stays
    age_seconds: float  # since its newest modification
    linked_to: Path | None = None  # a run linked into the root from elsewhere: only the link goes


@dataclass
class Plan:
    root: Path
    older_than_seconds: float
    items: list[Item] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.items)

    def of_kind(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]


def parse_duration(text: str) -> float:
    """Seconds in '30d', '12h', '90m' or '45s' (a whole number greater than 0, then its unit)."""
    match = DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise SeqlabError(f"'{text}' is not a duration",
                          "a whole number above 0 followed by d, h, m or s, such as 30d, 12h, 90m or 45s",
                          "write for example --older-than 30d")
    return float(int(match.group(1)) * UNITS[match.group(2)])


def _files(top: Path) -> list[tuple[Path, os.stat_result]]:
    """Every file or link under `top` with its own stat (links are not followed below `top` itself)."""
    found = []
    for folder, _, names in os.walk(top):
        for name in names:
            path = Path(folder) / name
            try:
                found.append((path, path.lstat()))
            except OSError:  # gone meanwhile
                continue
    return found


def _run_entries(root: Path) -> list[Path]:
    """As jobs lists them: folders (or links to folders) of the root whose names do not start with a dot."""
    return sorted(path for path in root.iterdir() if not path.name.startswith(".") and path.is_dir())


def _is_active(run_dir: Path) -> bool:
    """Queued or training, read without writing: a 'running' run whose process is gone is not active."""
    status = run_folder.read_status(run_dir)
    if status["state"] in states.LIVE:
        try:
            return backends.for_status(status).is_alive(status)
        except SeqlabError:  # a backend this seqlab cannot ask (Ray not installed, say): it may still train
            return True
    return status["state"] in states.ACTIVE


def _run_item(entry: Path, cutoff: float, now: float) -> Item | None:
    """The entry as an item to remove, or None while it is newer than the cutoff or active."""
    try:
        files = _files(entry)
        newest = max([entry.stat().st_mtime, *(info.st_mtime for _, info in files)])
    except OSError:
        return None
    if now - newest < cutoff or _is_active(entry):
        return None
    if entry.is_symlink():
        return Item("run", entry, 0, now - newest, linked_to=entry.resolve())
    return Item("run", entry, sum(info.st_size for _, info in files if stat.S_ISREG(info.st_mode)), now - newest)


def used_corpora(runs: list[Path]) -> tuple[set[Path], str]:
    """The corpus paths the runs' configs name, resolved; and the raw text of the configs that cannot be read, in
    which an upload's name counts as a use (a damaged config must not lose its corpus)."""
    used, unreadable = set(), []
    for run_dir in runs:
        try:
            corpus = run_folder.read_configs(run_dir)[1].corpus
        except SeqlabError:
            try:
                unreadable.append((run_dir / run_folder.CONFIG).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                pass
            continue
        used.add(Path(corpus).expanduser().resolve())  # a built-in name resolves to no upload: harmless
    return used, "\n".join(unreadable)


def _unused_uploads(root: Path, runs_kept: list[Path], cutoff: float, now: float) -> list[Item]:
    """The uploads older than the cutoff that none of `runs_kept` uses."""
    used, unreadable = used_corpora(runs_kept)
    items = []
    for path, info in _files(root / UPLOADS):
        age = now - info.st_mtime
        if age < cutoff or path.resolve() in used or (unreadable and path.name in unreadable):
            continue
        items.append(Item("upload", path, info.st_size if stat.S_ISREG(info.st_mode) else 0, age))
    return sorted(items, key=lambda item: str(item.path))


def plan_cleanup(older_than_seconds: float, root: Path | str | None = None, now: float | None = None) -> Plan:
    """What `apply_plan` would remove; nothing is written."""
    root, now = run_folder.runs_root(root), time.time() if now is None else now
    plan = Plan(root, older_than_seconds)
    entries = _run_entries(root)
    plan.items = [item for item in (_run_item(entry, older_than_seconds, now) for entry in entries) if item]
    doomed = {item.path for item in plan.items}
    kept = [entry for entry in entries if entry not in doomed] + _linked_folders(plan)  # a linked run's folder stays
    plan.items += _unused_uploads(root, kept, older_than_seconds, now)
    return plan


def _linked_folders(plan: Plan) -> list[Path]:
    return [item.linked_to for item in plan.of_kind("run") if item.linked_to is not None]


def apply_plan(plan: Plan) -> tuple[list[Item], list[str]]:
    """Remove the plan's runs, then its uploads that are still unused and old: (what went, why some did not)."""
    removed, problems = [], []
    for item in plan.of_kind("run"):
        try:
            delete_run(item.path.name, plan.root)
            removed.append(item)
        except SeqlabError as error:  # started again, or unwritable, since the plan was made
            problems.append(error.what)
    runs_left = _run_entries(plan.root) + _linked_folders(plan)  # whatever could not be deleted still counts
    still_unused = {item.path for item in _unused_uploads(plan.root, runs_left, plan.older_than_seconds, time.time())}
    for item in plan.of_kind("upload"):
        if item.path not in still_unused:
            continue  # a run started with it since the plan was made
        try:
            item.path.unlink()
            removed.append(item)
        except FileNotFoundError:
            continue
        except OSError as error:
            problems.append(f"Cannot remove {item.path} ({error.strerror})")
    return removed, problems
