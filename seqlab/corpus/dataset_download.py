"""Stanford's full IMDb (imdb-full) into the cache from the app: a background download, or an uploaded archive.

An 84 MB download takes minutes, so it must not run in a page's script (the page would freeze and a browser
that leaves would abandon it). One thread per server downloads; every browser reads the same shared state to
draw its progress bar, and any of them may cancel it. A second "download" while one runs joins it instead of
starting another. The archive is checked as Stanford's before it takes its final name in the cache, so
`imdb-full` never resolves to a cut file or a web page saved under the archive's name. No Streamlit here.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from seqlab import settings
from seqlab.corpus import imdb
from seqlab.corpus.decoding import MAX_CORPUS_BYTES, human_size
from seqlab.corpus.download import cache_dir, download_file
from seqlab.corpus.imdb import ARCHIVE_NAME, count_stanford_reviews
from seqlab.errors import SeqlabError

MAX_DOWNLOAD_BYTES = 120_000_000  # Stanford's archive is 84,125,825 bytes; a server sending more is refused
MAX_UPLOAD_BYTES = MAX_CORPUS_BYTES  # the app's upload cap (.streamlit/config.toml): the reviews-only copy fits
GZIP_MAGIC = b"\x1f\x8b"
PHASES = ("idle", "downloading", "checking", "done", "failed", "cancelled")


@dataclass(frozen=True)
class DownloadState:
    """What every browser shows: the phase, bytes so far and expected (None: the server did not say), a message."""

    phase: str = "idle"
    done: int = 0
    total: int | None = None
    message: str = ""
    cancelling: bool = False

    @property
    def running(self) -> bool:
        return self.phase in ("downloading", "checking")

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


class CancelledError(Exception):
    """Raised from the progress callback to stop the transfer (download_file then deletes its .part file)."""


@dataclass
class _Job:
    state: DownloadState
    cancel: threading.Event
    thread: threading.Thread | None = None


_LOCK = threading.Lock()  # guards _JOBS and every state change
_JOBS: dict[Path, _Job] = {}  # by destination: one job per cache folder, shared by every session


def archive_path() -> Path:
    """Where imdb-full's archive lives (the cache folder: SEQLAB_CACHE or ~/.cache/seqlab)."""
    return cache_dir() / ARCHIVE_NAME


def is_available() -> bool:
    try:
        return archive_path().is_file()
    except SeqlabError:  # no usable cache folder: not available, and the page says why when asked to fetch
        return False


def download_state() -> DownloadState:
    """The current (or last) download's state in this server; "done" when the archive is already cached."""
    destination = archive_path()
    with _LOCK:
        job = _JOBS.get(destination)
    if job is not None and job.state.running:
        return job.state
    if destination.is_file():
        if job is not None and job.state.phase == "done":
            return job.state
        return DownloadState("done", message=f"imdb-full is in the cache ({destination.stat().st_size / 1e6:,.1f} MB):"
                                             " no download needed.")
    return job.state if job is not None else DownloadState()


def start_download(url: str | None = None, *, allow_private_addresses: bool = False) -> DownloadState:
    """Start the background download (from `url`, else $SEQLAB_IMDB_URL, else Stanford) unless the archive is cached
    (no request at all) or one is already running (the caller then follows that one). Returns the state after."""
    if not url and settings.imdb_mirror():  # the operator's mirror (maybe on the school's own network)
        url, allow_private_addresses = settings.imdb_mirror(), True
    url = url or imdb.IMDB_URL
    destination = archive_path()
    with _LOCK:
        job = _JOBS.get(destination)
        if job is not None and job.state.running:
            return job.state
        if destination.is_file():
            return DownloadState("done", message="imdb-full was already downloaded: the copy in the cache is "
                                                 "used, nothing was downloaded.")
        job = _Job(DownloadState("downloading", message=f"Connecting to {url.split('/')[2] if '//' in url else url}…"),
                   threading.Event())
        job.thread = threading.Thread(target=_run, args=(job, url, destination, allow_private_addresses),
                                      name="seqlab-imdb-full-download", daemon=True)
        _JOBS[destination] = job
        job.thread.start()
        return job.state


def cancel_download() -> bool:
    """Ask the running download to stop (it stops at its next chunk); False when none runs."""
    with _LOCK:
        job = _JOBS.get(archive_path())
        if job is None or not job.state.running:
            return False
        job.cancel.set()
        job.state = replace(job.state, cancelling=True, message="Cancelling…")
        return True


def wait(timeout: float | None = None) -> DownloadState:
    """Block until the current download ends (tests and the CLI); returns its final state."""
    with _LOCK:
        job = _JOBS.get(archive_path())
    if job is not None and job.thread is not None:
        job.thread.join(timeout)
    return download_state()


def _set(job: _Job, **changes) -> None:
    with _LOCK:
        job.state = replace(job.state, **changes)


def _run(job: _Job, url: str, destination: Path, allow_private_addresses: bool) -> None:
    """The thread: download to a hidden name, check it, then give it its final name. Never raises."""
    unchecked = destination.with_name(f".{destination.name}.unchecked")

    def progress(done: int, total: int | None) -> None:
        if job.cancel.is_set():
            raise CancelledError
        _set(job, done=done, total=total, message=f"Downloading… {done / 1e6:,.1f} MB"
             + (f" of {total / 1e6:,.1f} MB" if total else ""))

    try:
        unchecked.unlink(missing_ok=True)  # a leftover from a server stopped while checking
        download_file(url, unchecked, max_bytes=MAX_DOWNLOAD_BYTES, timeout=60, progress=progress,
                      allow_private_addresses=allow_private_addresses)
        _set(job, phase="checking", message="Checking the archive (reading it through once)…")
        counts = _check(unchecked)
        os.replace(unchecked, destination)
        _set(job, phase="done", message=f"Downloaded and checked: {counts['train']:,} training and "
                                        f"{counts['test']:,} test reviews.")
    except CancelledError:
        _set(job, phase="cancelled", cancelling=False, message="The download was cancelled; nothing was kept.")
    except SeqlabError as error:
        _set(job, phase="failed", message=str(error))
    except Exception as error:  # a bug: the page still gets a sentence, never a dead thread with no state
        _set(job, phase="failed", message=f"The download stopped with an internal error ({type(error).__name__}).")
    finally:
        unchecked.unlink(missing_ok=True)


def _check(path: Path) -> dict[str, int]:
    with open(path, "rb") as file:
        if file.read(2) != GZIP_MAGIC:
            raise SeqlabError("The file received is not a .tar.gz archive (it may be a web page)",
                              "Stanford's aclImdb_v1.tar.gz", "try again later, or upload the archive instead")
    return count_stanford_reviews(path)


def store_archive(data: bytes, filename: str) -> tuple[Path, dict[str, int]]:
    """An uploaded aclImdb archive: size-capped, checked as Stanford's (regular files only, bounded), then stored
    under the cache's fixed name — the upload's own name is only used for its extension and in messages."""
    label = f"The uploaded file '{Path(filename).name}'"
    if not filename.lower().endswith((".tar.gz", ".tgz")):
        raise SeqlabError(f"{label} is not a .tar.gz archive", "aclImdb_v1.tar.gz from Stanford",
                          "upload the archive as downloaded, without unpacking it")
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise SeqlabError(f"{label} is {human_size(len(data))}", f"an archive of at most {human_size(MAX_UPLOAD_BYTES)}"
                          " (the app's upload limit; the reviews-only copy of aclImdb is 28 MB)",
                          "let the app download Stanford's 84 MB archive instead, or run `python -m seqlab download "
                          "imdb-full --archive FILE` on the server")
    if data[:2] != GZIP_MAGIC:
        raise SeqlabError(f"{label} is not gzip-compressed", "aclImdb_v1.tar.gz from Stanford",
                          "upload the archive as downloaded, without unpacking it")
    return _keep(lambda checking: checking.write_bytes(data))


def import_archive(path: Path) -> tuple[Path, dict[str, int]]:
    """The CLI's counterpart of an upload (`seqlab download imdb-full --archive FILE`): a local archive, checked
    the same way and copied into the cache; no upload cap, but Stanford's size bound."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise SeqlabError(f"There is no file at {path}", "the path of aclImdb_v1.tar.gz", "check the path")
    if not path.name.lower().endswith((".tar.gz", ".tgz")) or path.stat().st_size > MAX_DOWNLOAD_BYTES:
        raise SeqlabError(f"{path.name} is not Stanford's archive ({human_size(path.stat().st_size)})",
                          f"aclImdb_v1.tar.gz of at most {human_size(MAX_DOWNLOAD_BYTES)}",
                          "give the archive as downloaded from Stanford")
    return _keep(lambda checking: shutil.copyfile(path, checking))


def _keep(write) -> tuple[Path, dict[str, int]]:
    """Write the archive to a private name beside the cache's, check it, then give it the cache's name."""
    destination = archive_path()
    with _LOCK:
        job = _JOBS.get(destination)
        if job is not None and job.state.running:
            raise SeqlabError("imdb-full is being downloaded right now", "one copy at a time",
                              "wait for the download to finish, or cancel it first")
    checking = destination.with_name(f".{destination.name}.{os.getpid()}.{threading.get_native_id()}.upload")
    try:
        write(checking)
        counts = _check(checking)
        os.replace(checking, destination)
    except OSError as error:
        raise SeqlabError(f"Could not store the archive in {destination.parent}: {error.strerror or error}",
                          "a writable cache folder with enough free space", "free some disk space") from None
    finally:
        checking.unlink(missing_ok=True)
    return destination, counts
