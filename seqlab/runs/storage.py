"""Atomic file writes and file locks: a reader (the app, another process) never sees half a file, and two
processes never interleave a read-merge-write. Portable: `filelock` locks (flock on POSIX, msvcrt on Windows), and
a replace that retries while another process holds the target open (Windows refuses to replace an open file).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

REPLACE_ATTEMPTS = 50  # x 0.02 s: a reader holds a status file for a millisecond or so


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _replace(source: str, target: Path) -> None:
    for attempt in range(REPLACE_ATTEMPTS):
        try:
            os.replace(source, target)
            return
        except PermissionError:  # Windows: a reader has the target open; it lets go within milliseconds
            if attempt == REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(0.02)


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if missing) across processes; the OS drops it if the holder
    dies. Not re-entrant across separate calls: a holder must not ask again."""
    with FileLock(str(lock_path)):
        yield


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, payload) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
