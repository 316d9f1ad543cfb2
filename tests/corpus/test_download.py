"""seqlab.corpus.download against a real HTTP server on 127.0.0.1: sizes, timeouts, redirects, addresses,
atomic files."""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from seqlab.corpus import web_address
from seqlab.corpus.download import cache_dir, download_file, fetch_url
from seqlab.errors import SeqlabError
from tests.local_server import serving

SMALL = bytes(range(256)) * 800  # 204,800 bytes: several 64 KiB chunks
BIG_BYTES = 5_000_000
SLEEP_SECONDS = 1.0  # how long the slow endpoints stall; the tests' timeout is far shorter
SHORT_TIMEOUT = 0.3


class Handler(BaseHTTPRequestHandler):
    """Serves the endpoints below and counts requests per path on the server."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits[self.path] += 1
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on purpose (size cap, timeout)
            pass

    def route(self):
        path = self.path
        if path in ("/small", "/reuse"):
            self.reply(200, SMALL)
        elif path == "/big":  # honest Content-Length above the cap
            self.reply(200, b"", length=BIG_BYTES)
            for _ in range(BIG_BYTES // 100_000):
                self.wfile.write(b"x" * 100_000)
        elif path == "/no-length":  # close-delimited body (HTTP/1.0, no Content-Length) bigger than the cap
            self.send_response(200)
            self.end_headers()
            for _ in range(BIG_BYTES // 10_000):
                self.wfile.write(b"y" * 10_000)
        elif path == "/redirect":
            self.redirect("/small")
        elif path == "/loop":
            self.redirect("/loop")
        elif path == "/to-ftp":
            self.redirect("ftp://example.com/file.txt")
        elif path == "/to-metadata":  # the classic server-side request forgery target
            self.redirect("http://169.254.169.254/latest/meta-data/")
        elif path == "/slow":  # stalls before the headers
            time.sleep(SLEEP_SECONDS)
            self.reply(200, b"late")
        elif path == "/slow-body":  # headers and one byte, then stalls in the middle of the body
            self.reply(200, b"x", length=10)
            self.wfile.flush()
            time.sleep(SLEEP_SECONDS)
            self.wfile.write(b"y" * 9)
        else:
            self.reply(404, b"not found")

    def reply(self, status: int, body: bytes, length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    with serving(Handler) as httpd:
        yield httpd


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """requests honours proxy variables; the local server must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def refused(call, *args, **kwargs) -> str:
    """Run `call`, expect a SeqlabError that says what was expected and how to fix it; return its message."""
    with pytest.raises(SeqlabError) as caught:
        call(*args, **kwargs)
    assert caught.value.expected and caught.value.fix, caught.value.message
    return caught.value.message


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_fetch_returns_the_body_and_reports_progress_up_to_the_total(server):
    calls = []
    data = fetch_url(f"{server.url}/small", max_bytes=1_000_000, allow_private_addresses=True,
                     progress=lambda done, total: calls.append((done, total)))
    assert data == SMALL
    assert len(calls) >= 2, "one progress call per chunk"
    assert [done for done, _ in calls] == sorted({done for done, _ in calls}), "bytes done only grows"
    assert {total for _, total in calls} == {len(SMALL)}
    assert calls[-1] == (len(SMALL), len(SMALL))


def test_download_file_writes_a_part_file_then_renames_it(server, tmp_path):
    destination = tmp_path / "corpus.bin"
    seen = []  # (final name exists?, .part files) at each progress call

    def watch(done, total):
        seen.append((destination.exists(), [name for name in leftovers(tmp_path) if name.endswith(".part")]))

    result = download_file(f"{server.url}/small", destination, allow_private_addresses=True, progress=watch)
    assert result == destination
    assert destination.read_bytes() == SMALL
    assert seen and all(not exists and len(parts) == 1 for exists, parts in seen), seen
    assert seen[0][1][0].startswith(".corpus.bin.")
    assert leftovers(tmp_path) == ["corpus.bin"]


def test_download_file_reuses_the_file_without_a_second_request(server, tmp_path):
    destination = tmp_path / "reuse.bin"
    before = server.hits["/reuse"]
    download_file(f"{server.url}/reuse", destination, allow_private_addresses=True)
    download_file(f"{server.url}/reuse", destination, allow_private_addresses=True)
    assert server.hits["/reuse"] == before + 1
    assert destination.read_bytes() == SMALL

    cached = tmp_path / "cached.bin"
    cached.write_bytes(b"from an earlier run")
    assert download_file(f"{server.url}/reuse", cached, allow_private_addresses=True) == cached
    assert cached.read_bytes() == b"from an earlier run"
    assert server.hits["/reuse"] == before + 1


def test_an_interrupted_download_leaves_no_file_behind(server, tmp_path):
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_file(f"{server.url}/small", tmp_path / "corpus.bin", allow_private_addresses=True,
                      progress=interrupt)
    assert leftovers(tmp_path) == []


def test_oversized_content_length_is_refused_before_reading(server, tmp_path):
    calls = []
    message = refused(fetch_url, f"{server.url}/big", max_bytes=1_000_000, allow_private_addresses=True,
                      progress=lambda *args: calls.append(args))
    assert "1 MB" in message and "5 MB" in message
    assert calls == [], "nothing of the body was read"

    message = refused(download_file, f"{server.url}/big", tmp_path / "big.bin", max_bytes=1_000_000,
                      allow_private_addresses=True)
    assert "1 MB" in message
    assert leftovers(tmp_path) == []


def test_oversized_body_without_content_length_stops_at_the_cap(server, tmp_path):
    calls = []
    message = refused(fetch_url, f"{server.url}/no-length", max_bytes=100_000, allow_private_addresses=True,
                      progress=lambda done, total: calls.append((done, total)))
    assert "0.1 MB" in message
    assert calls and all(total is None for _, total in calls)
    assert calls[-1][0] <= 100_000, "streaming stopped as soon as the cap was passed"

    message = refused(download_file, f"{server.url}/no-length", tmp_path / "stream.bin", max_bytes=100_000,
                      allow_private_addresses=True)
    assert "0.1 MB" in message
    assert leftovers(tmp_path) == []


def test_http_error_names_the_status(server, tmp_path):
    message = refused(fetch_url, f"{server.url}/missing", max_bytes=1000, allow_private_addresses=True)
    assert "404" in message and "Not Found" in message
    refused(download_file, f"{server.url}/missing", tmp_path / "missing.bin", allow_private_addresses=True)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("path", ["/slow", "/slow-body"])
def test_timeout_names_the_seconds(server, path):
    started = time.monotonic()
    message = refused(fetch_url, f"{server.url}{path}", max_bytes=1000, timeout=SHORT_TIMEOUT,
                      allow_private_addresses=True)
    assert "0.3 seconds" in message
    assert time.monotonic() - started < SLEEP_SECONDS


@pytest.mark.parametrize(("url", "words"), [
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.com/file.txt", "only http and https"),
    ("example.com/file.txt", "only http and https"),
    ("", "only http and https"),
    ("http:///file.txt", "no host name"),
    ("http://example.com:port/", "not a valid URL"),
])
def test_urls_that_are_not_web_addresses_are_refused(url, words):
    assert words in refused(fetch_url, url, max_bytes=1000, allow_private_addresses=True)


def test_loopback_is_refused_unless_the_operator_allows_it(server):
    before = server.hits["/small"]
    message = refused(fetch_url, f"{server.url}/small", max_bytes=1_000_000)
    assert "127.0.0.1" in message and "loopback" in message and "operator" in message
    assert server.hits["/small"] == before, "refused before any request"
    assert fetch_url(f"{server.url}/small", max_bytes=1_000_000, allow_private_addresses=True) == SMALL


@pytest.mark.parametrize(("url", "kind"), [
    ("http://10.1.2.3/data.txt", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://0.0.0.0/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("http://100.64.0.1/", "non-public"),
])
def test_private_addresses_are_refused(url, kind):
    assert f"a {kind} address" in refused(fetch_url, url, max_bytes=1000)


def test_redirect_is_followed(server):
    assert fetch_url(f"{server.url}/redirect", max_bytes=1_000_000, allow_private_addresses=True) == SMALL


def test_redirect_to_a_private_address_is_refused_at_that_hop(server, monkeypatch):
    # Pretend the test server's 127.0.0.1 is public, so only the second hop can be refused.
    real = web_address.address_kind
    monkeypatch.setattr(web_address, "address_kind",
                        lambda address: None if str(address) == "127.0.0.1" else real(address))
    before = server.hits["/to-metadata"]
    message = refused(fetch_url, f"{server.url}/to-metadata", max_bytes=1000)
    assert server.hits["/to-metadata"] == before + 1, "the first hop was fetched"
    assert "169.254.169.254" in message and "link-local" in message


def test_redirect_to_another_scheme_or_in_a_loop_is_refused(server):
    assert "only http and https" in refused(fetch_url, f"{server.url}/to-ftp", max_bytes=1000,
                                            allow_private_addresses=True)
    before = server.hits["/loop"]
    assert "5 redirects" in refused(fetch_url, f"{server.url}/loop", max_bytes=1000, allow_private_addresses=True)
    assert server.hits["/loop"] == before + 6, "the first request and five redirects, no more"


def test_unreachable_host_says_could_not_reach():
    message = refused(fetch_url, "http://127.0.0.1:1/", max_bytes=1000, allow_private_addresses=True)
    assert "Could not reach 127.0.0.1" in message and "refused" in message.lower()


def test_host_that_does_not_resolve_says_could_not_reach(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    message = refused(fetch_url, "https://no-such-host.invalid/data.txt", max_bytes=1000)
    assert "Could not reach no-such-host.invalid" in message and "does not resolve" in message


def test_cache_dir_honours_seqlab_cache_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine" and cache_dir().is_dir()

    monkeypatch.delenv("SEQLAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "seqlab" and cache_dir().is_dir()

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "seqlab" and cache_dir().is_dir()


def test_cache_dir_that_cannot_be_created_is_explained(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "a-file" / "cache"))
    assert "SEQLAB_CACHE" in refused(cache_dir)
