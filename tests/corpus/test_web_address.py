"""URLs from a browser cannot steer the server inward: tricks two parsers read differently, addresses that embed a
private one, a second DNS answer, a trickling server. Against local servers these tests start."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections import Counter

import pytest

from seqlab.corpus import web_address
from seqlab.corpus.download import fetch_url
from seqlab.errors import SeqlabError
from tests.local_server import QuietHandler, serving

TEXT = b"To be, or not to be, that is the question.\n" * 20


class Handler(QuietHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits[self.path] += 1
        try:
            if self.path == "/trickle":  # one byte every 10 s: no single read ever times out
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(10)
            elif self.path == "/markdown-reason":
                self.reply(404, b"", reason="**Not** [here](http://evil.example) <b>")
            else:
                self.reply(200, TEXT)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server():
    with serving(Handler) as httpd:
        yield httpd


def refused(url: str, **options) -> str:
    with pytest.raises(SeqlabError) as caught:
        fetch_url(url, max_bytes=100_000, **options)
    assert caught.value.expected and caught.value.fix
    return caught.value.message


def test_a_backslash_before_an_at_sign_cannot_reach_loopback(server):
    """The parser of the old check read the host as example.com, the HTTP client as 127.0.0.1."""
    before = sum(server.hits.values())
    message = refused(f"http://127.0.0.1:{server.port}\\@example.com/../s.txt")
    assert "backslash" in message
    assert sum(server.hits.values()) == before


@pytest.mark.parametrize("url, words", [
    ("http://example.com@127.0.0.1:{port}/s.txt", "user name or password"),
    ("http://user:secret@example.com/s.txt", "user name or password"),
    ("http://straße.example/s.txt", "ASCII"),
    ("http://exa\nmple.com/s.txt", "control character"),
    ("http://example.com /s.txt", "control character"),
    ("HTTP://[::1", "not a valid URL"),
])
def test_urls_two_parsers_could_read_differently_are_refused(server, url, words):
    before = sum(server.hits.values())
    assert words in refused(url.format(port=server.port), allow_private_addresses=True)
    assert sum(server.hits.values()) == before


@pytest.mark.parametrize("address, kind", [
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 around 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "private"),  # Teredo (RFC 4380's example): a special-purpose prefix
    ("::ffff:169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fd00::1", "private"),
])
def test_ipv6_forms_are_judged_by_the_address_inside(address, kind):
    assert web_address.address_kind(ipaddress.ip_address(address)) == kind
    assert f"a {kind} address" in refused(f"http://[{address}]/s.txt")


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(server, monkeypatch):
    """DNS rebinding: a name that answers a public address to the check and 10.x to a second lookup. The fetch
    must connect to what was checked (here 127.0.0.1, treated as public for the test) and never look again."""
    answers = {"rebind.test": ["127.0.0.1", "10.9.9.9"]}
    lookups = Counter()
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host in answers:
            lookups[host] += 1
            address = answers[host][min(lookups[host], 2) - 1]
            return real(address, *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    kind = web_address.address_kind
    monkeypatch.setattr(web_address, "address_kind", lambda address: None if str(address) == "127.0.0.1"
                        else kind(address))
    assert fetch_url(f"http://rebind.test:{server.port}/s.txt", max_bytes=100_000) == TEXT
    assert lookups["rebind.test"] == 1


def test_a_trickling_server_is_cut_off_at_the_deadline(server):
    started = time.monotonic()
    message = refused(f"http://127.0.0.1:{server.port}/trickle", timeout=30, deadline_seconds=2,
                      allow_private_addresses=True)
    assert "did not finish within 2 seconds" in message
    assert time.monotonic() - started < 5


def test_a_servers_reason_phrase_reaches_the_message_as_plain_words(server):
    message = refused(f"http://127.0.0.1:{server.port}/markdown-reason", allow_private_addresses=True)
    assert "404" in message and "Not here" in message
    assert not set("*[]<>") & set(message.split("404", 1)[1].split(".")[0])
