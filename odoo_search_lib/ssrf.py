"""SSRF guard for every configurable outbound URL: resolve once, refuse non-public addresses, pin the connection.

The URL must be ``http(s)``, its host is resolved once, every resolved address
must be public (or allow-listed), and the connection is made to the checked IP
itself, so DNS cannot be re-bound between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .exceptions import ConfigError, UnsafeURLError

__all__ = ["check_url"]

#: Characters left as they are when a request target is percent-encoded (RFC 3986 reserved + unreserved + %).
_URL_SAFE = "/?#[]@!$&'()*+,;=:-._~%"

#: Cloud metadata endpoints: refused unless allow-listed by their exact address or name (never by a CIDR).
_METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_IPV6_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class _AllowList:
    hostnames: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, allow: Iterable[str]) -> _AllowList:
        entries = [allow] if isinstance(allow, str) else list(allow)
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = str(entry).strip().strip("[]").lower().rstrip(".")
            if not text:
                raise ConfigError("empty entry in the webhook URL allow-list", code="bad_allow_list")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if "/" in text or ":" in text or any(ch.isspace() for ch in text):
                raise ConfigError(f"invalid webhook URL allow-list entry {entry!r}", code="bad_allow_list")
            hostnames.add(_ascii_host(text))
        return cls(frozenset(hostnames), tuple(networks))

    def allows_address(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return self.allows_address(ip.ipv4_mapped) or any(ip in net for net in self.networks if net.version == 6)
        if ip in _METADATA_ADDRESSES:  # only an exact single-address entry unlocks a metadata endpoint
            return any(net.num_addresses == 1 and net.network_address == ip for net in self.networks)
        return any(ip.version == net.version and ip in net for net in self.networks)


def _unsafe_reason(ip: IPAddress) -> str | None:
    """Return why ``ip`` must not be contacted, or ``None`` when it is a public unicast address."""
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "scoped IPv6 address"
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None:
            reason = _unsafe_reason(embedded)
            return f"embeds IPv4 {embedded} ({reason})" if reason else None
        if ip in _IPV6_UNIQUE_LOCAL:
            return "unique-local address"
    checks = (
        ("is_unspecified", "unspecified address"),
        ("is_loopback", "loopback address"),
        ("is_link_local", "link-local address"),
        ("is_multicast", "multicast address"),
        ("is_private", "private address"),
        ("is_reserved", "reserved address"),
    )
    for attribute, reason in checks:
        if getattr(ip, attribute):
            return reason
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT address"
    if not ip.is_global:
        return "non-global address"
    return None


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower-case, without brackets
    port: int
    path: str  # path + query, never empty
    host_header: str
    addresses: tuple[tuple[int, Any], ...]  # (family, sockaddr) of checked addresses, in resolver order


def _resolve(host: str, port: int, timeout: float | None) -> list[tuple[int, Any]]:
    """``getaddrinfo`` with an optional time bound (the lookup runs in a daemon thread)."""

    def lookup() -> list[tuple[int, Any]]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]

    if timeout is None:
        try:
            return lookup()
        except (OSError, UnicodeError) as exc:
            raise UnsafeURLError(f"host {host!r} does not resolve: {exc}", code="unresolvable") from None
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = lookup()
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="webhook-resolve", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    if "value" in outcome:
        return outcome["value"]
    detail = outcome.get("error", f"no answer within {timeout:g} s")
    raise UnsafeURLError(f"host {host!r} does not resolve: {detail}", code="unresolvable")


def _check_address(ip: IPAddress, allowed: _AllowList, what: str) -> None:
    """Raise :class:`UnsafeURLError` (message ``"{what}: {reason}"``) unless ``ip`` is public or allow-listed."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        raise UnsafeURLError(f"{what}: scoped IPv6 address", code="forbidden_address")
    reason = _unsafe_reason(ip)
    if reason and not allowed.allows_address(ip):
        code = "metadata_address" if ip in _METADATA_ADDRESSES else "forbidden_address"
        raise UnsafeURLError(f"{what}: {reason}", code=code)


def _ascii_host(host: str) -> str:
    """Lower-case ASCII (IDNA) form of a host name; IP literals pass through unchanged."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeURLError(f"host {host!r} is not a valid international domain name", code="bad_url") from None


def _prepare(url: str, allowed: _AllowList, *, resolve_timeout: float | None = None) -> _Target:
    """Parse, resolve once and check ``url``; return the checked target or raise :class:`UnsafeURLError`."""
    try:
        parts = urllib.parse.urlsplit(str(url).strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"malformed URL: {exc}", code="bad_url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError(f"URL scheme {scheme or '(none)'!r} is not http or https", code="bad_scheme")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("URL has no host", code="missing_host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("URL must not embed credentials", code="credentials_in_url")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in str(url).strip()):
        raise UnsafeURLError("URL contains whitespace or control characters", code="bad_url")
    host = _ascii_host(host)
    port = port or (443 if scheme == "https" else 80)
    default_port = port == (443 if scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    shown = f"[{host}]" if literal is not None and literal.version == 6 else host
    host_header = shown if default_port else f"{shown}:{port}"
    path = urllib.parse.quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_URL_SAFE)

    host_allowed = literal is None and host in allowed.hostnames
    if literal is None and host in _METADATA_HOSTNAMES and not host_allowed:
        raise UnsafeURLError(f"host {host!r} is a cloud metadata endpoint", code="metadata_address")
    if literal is not None:
        _check_address(literal, allowed, f"address {literal}")
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        sockaddr: Any = (str(literal), port, 0, 0) if literal.version == 6 else (str(literal), port)
        return _Target(scheme, host, port, path, host_header, ((family, sockaddr),))

    resolved = _resolve(host, port, resolve_timeout)
    checked: list[tuple[int, Any]] = []
    for family, sockaddr in resolved:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        if not host_allowed:
            ip = ipaddress.ip_address(sockaddr[0])
            _check_address(ip, allowed, f"host {host!r} resolves to {ip}")
        if (family, sockaddr) not in checked:
            checked.append((family, sockaddr))
    if not checked:
        raise UnsafeURLError(f"host {host!r} has no IPv4/IPv6 address", code="unresolvable")
    return _Target(scheme, host, port, path, host_header, tuple(checked))


def check_url(url: str, *, allow: Iterable[str] = (), resolve_timeout: float | None = 5.0) -> None:
    """Raise :class:`UnsafeURLError` unless ``url`` is a safe webhook target.

    Refused (``code``): non-http(s) schemes (``bad_scheme``), no host (``missing_host``), user/password in the
    URL (``credentials_in_url``), malformed URLs (``bad_url``), hosts that are or resolve (every
    ``getaddrinfo`` result) to loopback, private, link-local, CGNAT, unspecified, multicast, reserved,
    unique-local or otherwise non-global addresses, including such IPv4 addresses embedded in IPv6
    (``forbidden_address``), cloud metadata endpoints (``metadata_address``), and names that do not resolve
    (``unresolvable``). Literal IP hosts are judged without any DNS lookup.

    ``allow`` entries are host names (the host is then trusted whatever it resolves to), IP addresses or CIDR
    networks (e.g. ``"127.0.0.1"``, ``"10.0.0.0/8"``, ``"hooks.internal"``). A metadata address is only
    unlocked by its exact address (or name), never by a network that happens to contain it.

    A name that does not resolve within ``resolve_timeout`` seconds is ``unresolvable``, so saving a
    webhook endpoint never hangs on a slow resolver.
    """
    _prepare(url, _AllowList.parse(allow), resolve_timeout=resolve_timeout)


def _connect(target: _Target, allowed: _AllowList, connect_timeout: float, deadline: float) -> socket.socket:
    """Connect to the first reachable checked address; re-check the peer; raise ``OSError`` when none answers."""
    last_error: OSError | None = None
    for family, sockaddr in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("overall timeout reached while connecting")
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.settimeout(min(connect_timeout, remaining))
            sock.connect(sockaddr)
            peer = ipaddress.ip_address(sock.getpeername()[0])
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        if peer != ipaddress.ip_address(sockaddr[0]):
            sock.close()
            raise UnsafeURLError(f"connected peer {peer} is not the checked {sockaddr[0]}", code="peer_mismatch")
        if target.host not in allowed.hostnames:
            try:
                _check_address(peer, allowed, f"connected peer {peer}")
            except UnsafeURLError:
                sock.close()
                raise
        return sock
    raise last_error or OSError("no address to connect to")
