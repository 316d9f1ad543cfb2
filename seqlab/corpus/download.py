"""Download corpora over HTTP(S): size-capped, time-limited, atomic and cached.

URLs come from people (the app's text box, a CLI flag), so a download must not fill memory or disk, hang,
reach into the operator's network (cloud metadata, localhost admin pages) or leave half a file behind. Which
addresses may be fetched is web_address.py's; this module connects to exactly the address it checked.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

from seqlab import settings
from seqlab.corpus.web_address import Target, checked_target
from seqlab.errors import SeqlabError

DEFAULT_TIMEOUT_SECONDS: float = 30.0  # each connect and each read
FETCH_DEADLINE_SECONDS: float = 180.0  # a whole corpus fetched into memory (at most 50 MB)
FILE_DEADLINE_SECONDS: float = 1800.0  # a whole file downloaded to the cache (Stanford's IMDb archive: 84 MB)
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK_BYTES = 64 * 1024  # the most one read returns
PLAIN = {"Accept-Encoding": "identity", "User-Agent": "seqlab"}  # no gzip: the bytes counted are the bytes sent
Progress = Callable[[int, int | None], None]  # (bytes_done, total_bytes or None)


def cache_dir() -> pathlib.Path:
    """Folder for downloads, so each URL is fetched once per machine rather than once per run."""
    folder = settings.corpus_cache()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SeqlabError(f"Could not create the cache folder {folder}: {exc.strerror}",
                          "a folder seqlab can write to",
                          f"set the {settings.CACHE_VARIABLE} environment variable to a writable folder") from exc
    return folder


def fetch_url(url: str, *, max_bytes: int, timeout: float = DEFAULT_TIMEOUT_SECONDS,
              allow_private_addresses: bool = False, progress: Progress | None = None,
              deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> bytes:
    """Return the body of `url`; max_bytes is required because all of it sits in memory. `timeout` bounds each
    connect and read, `deadline_seconds` the whole download."""
    body = bytearray()
    _stream(url, body.extend, max_bytes, timeout, allow_private_addresses, progress, deadline_seconds)
    return bytes(body)


def download_file(url: str, destination: pathlib.Path, *, max_bytes: int | None = None,
                  timeout: float = DEFAULT_TIMEOUT_SECONDS, allow_private_addresses: bool = False,
                  progress: Progress | None = None, deadline_seconds: float = FILE_DEADLINE_SECONDS) -> pathlib.Path:
    """Save `url` to `destination`, or reuse it if it is there already (a cache: no request).

    The body goes to a hidden `.part` file that is renamed onto `destination` only when complete, so the
    final name never holds a partial file that a later run would trust.
    """
    if destination.exists():
        return destination
    # pid and thread in the name: the app serves each session from a thread, so two may download at once.
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.{threading.get_native_id()}.part")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as file:
            _stream(url, file.write, max_bytes, timeout, allow_private_addresses, progress, deadline_seconds)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the name says they are
        os.replace(partial, destination)
    except OSError as exc:  # network errors are SeqlabErrors by now, so this is the disk
        partial.unlink(missing_ok=True)
        raise SeqlabError(f"Could not write {destination}: {exc.strerror or exc}",
                          "a writable folder with enough free space",
                          "free some disk space or choose another folder") from exc
    except BaseException:  # Ctrl-C included: never leave the .part file behind
        partial.unlink(missing_ok=True)
        raise
    return destination


def _stream(url: str, write: Callable[[bytes], object], max_bytes: int | None, timeout: float,
            allow_private: bool, progress: Progress | None, deadline_seconds: float) -> None:
    """Feed the body to `write` chunk by chunk, stopping as soon as it is bigger than `max_bytes`, or when the
    whole download has taken `deadline_seconds` (a server that trickles a byte at a time never times a read out)."""
    deadline = time.monotonic() + deadline_seconds
    with _get(url, timeout, allow_private, deadline) as (response, final_url):
        if response.status >= 400:
            raise SeqlabError(f"{final_url} answered HTTP {response.status} {_plain(response.reason)}",
                              "HTTP 200 OK",
                              "check the URL (404 means there is no file there) or try again later")
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        if max_bytes is not None and total is not None and total > max_bytes:
            raise _too_big(url, max_bytes, total)  # refused before reading the body
        done = 0
        with _network_errors(final_url, timeout, deadline, deadline_seconds):
            while chunk := response.read1(CHUNK_BYTES):
                done += len(chunk)
                if max_bytes is not None and done > max_bytes:
                    raise _too_big(url, max_bytes, total)
                write(chunk)
                if progress is not None:
                    progress(done, total)
                if time.monotonic() > deadline:
                    raise _too_slow(final_url, deadline_seconds)


@contextlib.contextmanager
def _get(url: str, timeout: float, allow_private: bool, deadline: float):
    """(response, its URL): GET, following redirects by hand so that every hop passes the same checks, each time
    connecting to exactly the address that was checked. A timer shuts the socket at the deadline."""
    for _ in range(MAX_REDIRECTS + 1):
        target = checked_target(url, allow_private)
        with _network_errors(url, timeout, deadline, deadline - time.monotonic()):
            response = _request(target, timeout)
        if response.status in REDIRECTS and response.headers.get("Location"):
            response.release_conn()
            url = urljoin(url, response.headers["Location"])
            continue
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), response.shutdown)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield response, url
        finally:
            watchdog.cancel()
            response.release_conn()
        return
    raise SeqlabError(f"Gave up after {MAX_REDIRECTS} redirects, the last one to {url}",
                      f"a URL that reaches the file in at most {MAX_REDIRECTS} redirects",
                      "open the URL in a browser and use the address it ends up at")


def _request(target: Target, timeout: float) -> urllib3.BaseHTTPResponse:
    """One GET to the checked address; the Host header (and for https the certificate check) use the host name."""
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=limits, retries=False,
                                           server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=limits, retries=False)
    return pool.urlopen("GET", target.request_target, headers={**PLAIN, "Host": target.host_header},
                        redirect=False, retries=False, preload_content=False, assert_same_host=False)


@contextlib.contextmanager
def _network_errors(url: str, timeout: float, deadline: float, deadline_seconds: float) -> Iterator[None]:
    """Turn the HTTP client's exceptions into messages a person can act on."""
    host = urlsplit(url).hostname or url
    try:
        yield
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise _too_slow(url, deadline_seconds) from exc
        refused = urllib3.exceptions.NewConnectionError | urllib3.exceptions.SSLError | ConnectionError
        if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError) and not isinstance(exc, refused):
            raise SeqlabError(f"{host} did not respond within {timeout:g} seconds",
                              "a server that answers within the timeout",
                              "try again later, or allow a longer timeout") from exc
        if isinstance(exc, refused):
            what, expected = f"Could not reach {host}: {_reason(exc)}", "a server that accepts the connection"
        else:  # e.g. the connection dropped halfway through the body
            what, expected = f"Downloading from {host} failed: {_reason(exc)}", "a complete answer from the server"
        raise SeqlabError(what, expected, "check the URL and your internet connection") from exc


def _plain(text: str | None) -> str:
    """A server's own words (its reason phrase), as plain printable text of bounded length."""
    return re.sub(r"[^A-Za-z0-9 .,;:()'/-]", "", text or "")[:80]


def _reason(exc: BaseException) -> str:
    """The gist ("Connection refused") of urllib3's long nested messages."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip() if match else str(exc)[:150] or type(exc).__name__


def _too_slow(url: str, deadline_seconds: float) -> SeqlabError:
    return SeqlabError(f"Downloading {url} did not finish within {deadline_seconds:g} seconds",
                       "a download that completes within the time limit",
                       "try a faster server or a smaller file, or try again later")


def _too_big(url: str, max_bytes: int, total: int | None) -> SeqlabError:
    size = f"is {_megabytes(total)}" if total is not None else "is larger"
    return SeqlabError(f"Refused to download {url}: the limit is {_megabytes(max_bytes)} and the file {size}",
                       f"a file of at most {_megabytes(max_bytes)}",
                       "choose a smaller file (the limit protects memory and disk)")


def _megabytes(count: int) -> str:
    """50_000_000 -> '50 MB', 1_500_000 -> '1.5 MB', 1_000 -> '0.001 MB'."""
    megabytes = count / 1_000_000
    return (f"{megabytes:.2g}" if megabytes < 1 else f"{megabytes:,.1f}".removesuffix(".0")) + " MB"
