"""Which web addresses seqlab may fetch, checked the way the connection will use them.

A URL typed in a browser must not steer the server into its own network (localhost admin pages, cloud metadata,
the private LAN). So a URL is parsed once, by the HTTP client's own parser (urllib3's `parse_url`, which the
connection then uses as it is); anything two parsers could read differently is refused outright (backslashes,
user-info before `@`, control characters, non-ASCII host names); the host name is resolved once and the
download connects to exactly the address that was checked (no second lookup a DNS server could answer
differently); and every non-public address is refused, including the IPv6 forms that embed one (IPv4-mapped,
6to4, Teredo, NAT64).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from seqlab.errors import SeqlabError

BLOCKED_KINDS = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$")
PUBLIC_ONLY_FIX = "use a public URL; only the operator can allow private addresses (allow_private_addresses=True)"


@dataclass(frozen=True)
class Target:
    """Where one request goes: the checked address to connect to, and the name the server knows itself by."""

    scheme: str
    host: str  # as written (for the Host header and the TLS certificate)
    port: int
    address: str  # the resolved address that was checked
    request_target: str  # path and query

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def checked_target(url: str, allow_private: bool) -> Target:
    """The Target of `url`, or a SeqlabError saying why it may not be fetched."""
    scheme = SCHEME.match(url or "")
    if not scheme or scheme.group(1).lower() not in ("http", "https"):
        raise SeqlabError(f"Refused to download {url!r}: only http and https URLs are allowed",
                          "a URL starting with http:// or https://",
                          "copy the full web address, including the https:// at the start")
    if "\\" in url or any(ord(character) < 0x21 or ord(character) == 0x7F for character in url):
        raise SeqlabError(f"Refused to download {url!r}: it holds a backslash, a space or a control character",
                          "a plain web address", "copy the address again from the browser's address bar")
    authority = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    if not authority.isascii():  # urllib3 would turn it into punycode, a browser might read it another way
        raise SeqlabError(f"Refused to download {url!r}: the host name '{authority}' has characters other than "
                          "ASCII letters, digits, dots and hyphens", "an ASCII host name",
                          "use the site's ASCII (punycode, xn--…) name")
    try:
        parts = parse_url(url)
        port = parts.port
    except (LocationParseError, ValueError) as exc:  # e.g. "http://[::1" or a port that is not a number
        raise SeqlabError(f"{url!r} is not a valid URL ({exc})", "a web address", "copy the address again") from exc
    if not parts.host:
        raise SeqlabError(f"The URL {url!r} has no host name", "a URL like https://example.com/file.txt",
                          "add the site's name to the URL")
    if parts.auth is not None or "@" in (parts.netloc or ""):
        raise SeqlabError(f"Refused to download {url!r}: it holds a user name or password before the host",
                          "a URL without user@ in front of the host", "remove the part up to and including '@'")
    host = parts.host.strip("[]")
    if not (_is_address(host) or (host.isascii() and HOST_NAME.match(host))):
        raise SeqlabError(f"Refused to download {url!r}: the host name '{parts.host}' has characters other than "
                          "ASCII letters, digits, dots and hyphens", "an ASCII host name",
                          "use the site's ASCII (punycode, xn--…) name")
    scheme_name = scheme.group(1).lower()
    port = port or (443 if scheme_name == "https" else 80)
    address = resolve_checked(host, port, allow_private)
    return Target(scheme_name, host, port, address, parts.request_uri)


def resolve_checked(host: str, port: int, allow_private: bool) -> str:
    """Resolve `host` once; every address it has must be public (unless allowed). Returns the one to connect to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise SeqlabError(f"Could not reach {host}: the name does not resolve ({_errno_text(exc)})",
                          "a host name that exists",
                          "check the spelling of the URL and your internet connection") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not allow_private:
        for address in addresses:
            if kind := address_kind(address):
                raise SeqlabError(f"Refused to download from {host}: it resolves to {address}, a {kind} address",
                                  "a URL on the public internet", PUBLIC_ONLY_FIX)
    return str(addresses[0])


def address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Name what kind of non-public address this is (None for a public one), for the error message; an IPv6
    address that carries an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by the IPv4 address inside."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and (kind := address_kind(embedded)):
        return kind
    for kind in BLOCKED_KINDS:
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"  # e.g. 100.64.0.0/10, carrier-grade NAT


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _errno_text(exc: BaseException) -> str:
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    return match.group(1).strip() if match else str(exc)[:150] or type(exc).__name__
