"""Download corpora over HTTP(S): size-capped, time-limited, atomic and cached.

URLs come from people (the app's text box, a CLI flag), so a download must not fill memory or disk, hang,
reach into the operator's network (cloud metadata, localhost admin pages) or leave half a file behind.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pathlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from seqlab import settings
from seqlab.errors import SeqlabError

DEFAULT_TIMEOUT_SECONDS: float = 30.0
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024  # one read from the socket
BLOCKED_KINDS = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")
PLAIN = {"Accept-Encoding": "identity"}  # no gzip, so the bytes counted are the bytes Content-Length promises
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
              allow_private_addresses: bool = False, progress: Progress | None = None) -> bytes:
    """Return the body of `url`; max_bytes is required because all of it sits in memory."""
    body = bytearray()
    _stream(url, body.extend, max_bytes, timeout, allow_private_addresses, progress)
    return bytes(body)


def download_file(url: str, destination: pathlib.Path, *, max_bytes: int | None = None,
                  timeout: float = DEFAULT_TIMEOUT_SECONDS, allow_private_addresses: bool = False,
                  progress: Progress | None = None) -> pathlib.Path:
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
            _stream(url, file.write, max_bytes, timeout, allow_private_addresses, progress)
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
            allow_private: bool, progress: Progress | None) -> None:
    """Feed the body to `write` chunk by chunk, stopping as soon as it is bigger than `max_bytes`."""
    with _get(url, timeout, allow_private) as response:
        if response.status_code >= 400:
            raise SeqlabError(f"{response.url} answered HTTP {response.status_code} {response.reason}",
                              "HTTP 200 OK",
                              "check the URL (404 means there is no file there) or try again later")
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        if max_bytes is not None and total is not None and total > max_bytes:
            raise _too_big(url, max_bytes, total)  # refused before reading the body
        done = 0
        with _network_errors(response.url, timeout):
            for chunk in response.iter_content(CHUNK_BYTES):
                done += len(chunk)
                if max_bytes is not None and done > max_bytes:
                    raise _too_big(url, max_bytes, total)
                write(chunk)
                if progress is not None:
                    progress(done, total)


def _get(url: str, timeout: float, allow_private: bool) -> requests.Response:
    """GET, following redirects by hand so that every hop passes the same scheme and address checks."""
    for _ in range(MAX_REDIRECTS + 1):
        _check_url(url, allow_private)
        with _network_errors(url, timeout):
            response = requests.get(url, stream=True, timeout=timeout, allow_redirects=False, headers=PLAIN)
        if not response.is_redirect:
            return response
        with response:
            url = urljoin(url, response.headers["Location"])
    raise SeqlabError(f"Gave up after {MAX_REDIRECTS} redirects, the last one to {url}",
                      f"a URL that reaches the file in at most {MAX_REDIRECTS} redirects",
                      "open the URL in a browser and use the address it ends up at")


def _check_url(url: str, allow_private: bool) -> None:
    """Refuse URLs that are not web addresses, or that lead into a private network (unless allowed)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # e.g. "http://[::1" or a port that is not a number
        raise SeqlabError(f"{url!r} is not a valid URL ({exc})", "a web address", "copy the address again") from exc
    if parts.scheme not in ("http", "https"):
        raise SeqlabError(f"Refused to download {url!r}: only http and https URLs are allowed",
                          "a URL starting with http:// or https://",
                          "copy the full web address, including the https:// at the start")
    if not host:
        raise SeqlabError(f"The URL {url!r} has no host name", "a URL like https://example.com/file.txt",
                          "add the site's name to the URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise SeqlabError(f"Could not reach {host}: the name does not resolve ({_reason(exc)})",
                          "a host name that exists",
                          "check the spelling of the URL and your internet connection") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if kind := _address_kind(address):
            raise SeqlabError(f"Refused to download from {host}: it resolves to {address}, a {kind} address",
                              "a URL on the public internet",
                              "use a public URL; only the operator can allow private addresses "
                              "(allow_private_addresses=True)")


def _address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Name what kind of non-public address this is (None for a public one), for the error message."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind in BLOCKED_KINDS:
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"  # e.g. 100.64.0.0/10, carrier-grade NAT


@contextlib.contextmanager
def _network_errors(url: str, timeout: float) -> Iterator[None]:
    """Turn requests' exceptions into messages a person can act on."""
    host = urlsplit(url).hostname or url
    try:
        yield
    except requests.RequestException as exc:
        # A timeout while reading the body arrives as a ConnectionError wrapping urllib3's ReadTimeoutError.
        if isinstance(exc, requests.Timeout) or any(isinstance(arg, ReadTimeoutError) for arg in exc.args):
            raise SeqlabError(f"{host} did not respond within {timeout:g} seconds",
                              "a server that answers within the timeout",
                              "try again later, or allow a longer timeout") from exc
        if isinstance(exc, requests.ConnectionError):
            what, expected = f"Could not reach {host}: {_reason(exc)}", "a server that accepts the connection"
        else:  # e.g. the connection dropped halfway through the body
            what, expected = f"Downloading from {host} failed: {_reason(exc)}", "a complete answer from the server"
        raise SeqlabError(what, expected, "check the URL and your internet connection") from exc


def _reason(exc: BaseException) -> str:
    """The gist ("Connection refused") of urllib3's long nested messages."""
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip() if match else str(exc)[:150] or type(exc).__name__


def _too_big(url: str, max_bytes: int, total: int | None) -> SeqlabError:
    size = f"is {_megabytes(total)}" if total is not None else "is larger"
    return SeqlabError(f"Refused to download {url}: the limit is {_megabytes(max_bytes)} and the file {size}",
                       f"a file of at most {_megabytes(max_bytes)}",
                       "choose a smaller file (the limit protects memory and disk)")


def _megabytes(count: int) -> str:
    """50_000_000 -> '50 MB', 1_500_000 -> '1.5 MB', 1_000 -> '0.001 MB'."""
    megabytes = count / 1_000_000
    return (f"{megabytes:.2g}" if megabytes < 1 else f"{megabytes:,.1f}".removesuffix(".0")) + " MB"
