"""A run's human name and note: `lstm-shakespeare-3` and "first try, clipping off", beside the sortable id.

A run id (20261124-095754-generate-lstm-8bd6) stays the folder's name and every link's key; it means nothing to a
student. The name is made when the run is created — cell, corpus and a counter within the owner's workspace — and
the owner can change it and add a note (Train page, `seqlab runs --rename/--note`). Both live in the run folder's
label.json, written by the app or CLI only (the worker never touches it), so renaming never races training.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.runs.storage import write_json_atomic

LABEL = "label.json"
MAX_NAME_CHARACTERS, MAX_NOTE_CHARACTERS = 40, 500
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def _corpus_word(corpus: str) -> str:
    """'tiny-shakespeare' -> 'shakespeare', '/…/uploads/ab12-my_reviews.csv' -> 'my-reviews' (lower case, short)."""
    stem = Path(corpus).stem if ("/" in corpus or "\\" in corpus) else corpus
    stem = re.sub(r"^[0-9a-f]{8,}[-_]", "", stem.lower())  # an upload's content-hash prefix
    words = [word for word in _NOT_NAME.split(stem) if word and word not in ("tiny", "txt", "csv", "tsv")]
    return "-".join(words)[:20].strip("-") or "corpus"


def default_name(cell: str, corpus: str, taken: list[str]) -> str:
    """`<cell>-<corpus>-<n>` with the smallest n ≥ 1 not already among `taken` (the workspace's names)."""
    prefix = f"{cell.replace('_', '')}-{_corpus_word(corpus)}"
    taken_set, number = set(taken), 1
    while f"{prefix}-{number}" in taken_set:
        number += 1
    return f"{prefix}-{number}"


def check_name(name: str) -> str:
    """The name, trimmed; SeqlabError for an empty, overlong or control-character name."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME_CHARACTERS:
        raise SeqlabError(f"A run name must be 1 to {MAX_NAME_CHARACTERS} characters (got {len(name)})",
                          "a short name such as lstm-shakespeare-3", "type a shorter name")
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise SeqlabError("A run name cannot contain control characters", "letters, digits, spaces, - and _",
                          "retype the name without them")
    return name


def check_note(note: str) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE_CHARACTERS:
        raise SeqlabError(f"A run note is at most {MAX_NOTE_CHARACTERS} characters (got {len(note)})",
                          "a sentence or two", "shorten the note")
    if any(unicodedata.category(character) == "Cc" and character not in "\n\t" for character in note):
        raise SeqlabError("A run note cannot contain control characters", "plain text", "retype the note")
    return note


def read_label(run_dir: Path) -> dict:
    """{'name': str, 'note': str}; an older run (or an unreadable file) is named by its id, with no note."""
    try:
        record = json.loads((Path(run_dir) / LABEL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    record = record if isinstance(record, dict) else {}
    name, note = record.get("name"), record.get("note")
    return {"name": name if isinstance(name, str) and name.strip() else Path(run_dir).name,
            "note": note if isinstance(note, str) else ""}


def run_name(run_dir: Path) -> str:
    return read_label(run_dir)["name"]


def write_label(run_dir: Path, name: str | None = None, note: str | None = None) -> dict:
    """Change the name and/or the note (checked first; nothing is written when either is refused)."""
    label = read_label(run_dir)
    if name is not None:
        label["name"] = check_name(name)
    if note is not None:
        label["note"] = check_note(note)
    write_json_atomic(Path(run_dir) / LABEL, label)
    return label


def name_new_run(run_dir: Path, cell: str, corpus: str, sibling_dirs: list[Path]) -> str:
    """Give a just-created run its default name, counting the names its workspace's runs already have."""
    name = default_name(cell, corpus, [run_name(path) for path in sibling_dirs if path != Path(run_dir)])
    write_json_atomic(Path(run_dir) / LABEL, {"name": name, "note": ""})
    return name
