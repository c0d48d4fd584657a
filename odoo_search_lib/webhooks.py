"""Signed outgoing webhooks: Standard Webhooks 1.0 signing, verification, SSRF-guarded delivery, retry schedule.

Standard library only. Both sides use this module:

* the emitter (the Odoo outbox) calls :func:`build_payload`, then :func:`deliver`
  and, when a delivery fails, :func:`next_retry_delay` to schedule the next
  attempt with the *same* ``msg_id`` (the receiver's idempotency key);
* receivers call :func:`verify` on the raw request body and headers.

Signing follows Standard Webhooks 1.0 (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>``, with
a ``whsec_<base64>`` secret whose decoded bytes are the HMAC key).

Delivery is guarded against SSRF: the URL must be ``http(s)``, its host is
resolved once, every resolved address must be public (or allow-listed), and the
connection is made to the checked IP itself (``Host`` header and TLS
``server_hostname`` keep the original name), so DNS cannot be re-bound between
the check and the connection. Redirects are never followed.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import http.client
import ipaddress
import json
import math
import random
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .exceptions import (
    ConfigError,
    DeliveryError,
    InvalidInputError,
    UnsafeURLError,
    WebhookVerificationError,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_PRODUCT_CREATED",
    "EVENT_PRODUCT_DELETED",
    "EVENT_PRODUCT_DESCRIPTION_GENERATED",
    "EVENT_PRODUCT_UPDATED",
    "EVENT_TYPES",
    "MAX_RETRY_AFTER",
    "RETRY_JITTER",
    "RETRY_SCHEDULE",
    "SECRET_PREFIX",
    "DeliveryResult",
    "build_payload",
    "check_url",
    "deliver",
    "generate_secret",
    "next_retry_delay",
    "sign",
    "signed_headers",
    "truncate_for_log",
    "verify",
]

SECRET_PREFIX = "whsec_"
#: Standard Webhooks: secrets SHOULD be 24 to 64 random bytes.
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64
#: Seconds a receiver accepts between the signed timestamp and its clock, both ways.
DEFAULT_TOLERANCE = 300

EVENT_PRODUCT_CREATED = "product.created"
EVENT_PRODUCT_UPDATED = "product.updated"
EVENT_PRODUCT_DELETED = "product.deleted"
EVENT_PRODUCT_DESCRIPTION_GENERATED = "product.description_generated"
EVENT_TYPES: frozenset[str] = frozenset(
    {EVENT_PRODUCT_CREATED, EVENT_PRODUCT_UPDATED, EVENT_PRODUCT_DELETED, EVENT_PRODUCT_DESCRIPTION_GENERATED}
)

#: Delay in seconds before retry n+1, after n failed attempts (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: Relative jitter applied to every scheduled delay (±20 %).
RETRY_JITTER = 0.2
#: A receiver's ``Retry-After`` is honoured up to this many seconds (24 h).
MAX_RETRY_AFTER = 86400.0

#: Log excerpts of receiver answers are at most this many characters.
LOG_EXCERPT_LIMIT = 512
#: At most this many bytes of a receiver's answer are read (only an excerpt is kept).
_MAX_READ_BYTES = 8192
_USER_AGENT = "odoo-search-lib-webhooks/1"
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


# --------------------------------------------------------------------------- signing


def generate_secret() -> str:
    """Return a new endpoint secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    """Decode a ``whsec_<base64>`` secret into its HMAC key, or raise ``WebhookVerificationError``."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise WebhookVerificationError(f"webhook secret must start with {SECRET_PREFIX!r}", code="bad_secret")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("webhook secret is not valid base64", code="bad_secret") from None
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise WebhookVerificationError(
            f"webhook secret must decode to {SECRET_MIN_BYTES}-{SECRET_MAX_BYTES} bytes, not {len(key)}",
            code="bad_secret",
        )
    return key


def _check_token(value: str, what: str) -> str:
    """Validate a header-bound token (message id, event type): printable ASCII, no spaces, bounded."""
    if not isinstance(value, str) or not value or len(value) > 255:
        raise InvalidInputError(f"{what} must be a non-empty string of at most 255 characters", code=f"bad_{what}")
    if not all("!" <= ch <= "~" for ch in value):
        raise InvalidInputError(f"{what} must be printable ASCII without spaces", code=f"bad_{what}")
    return value


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value ``v1,<base64 HMAC-SHA256>`` for one message.

    The signed content is ``"{msg_id}.{timestamp}.{body}"``; the key is the base64-decoded part of ``secret``.
    Raises :class:`WebhookVerificationError` (code ``bad_secret``) for a malformed secret.
    """
    key = _secret_key(secret)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise InvalidInputError("timestamp must be an integer number of seconds", code="bad_timestamp")
    return "v1," + _signature(key, msg_id, timestamp, bytes(body))


def signed_headers(
    secret: str,
    msg_id: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    event_type: str | None = None,
) -> dict[str, str]:
    """Return the headers of a signed delivery of ``body``.

    ``webhook-id`` is ``msg_id`` (keep it identical across retries: receivers dedupe on it),
    ``webhook-timestamp`` is ``timestamp`` (default: now, unix seconds) and ``webhook-signature``
    its ``v1`` signature. ``X-Odoo-Event`` is added when ``event_type`` is given.
    """
    _check_token(msg_id, "msg_id")
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "Content-Type": "application/json",
    }
    if event_type is not None:
        headers["X-Odoo-Event"] = _check_token(event_type, "event_type")
    return headers


def build_payload(event_type: str, data: Mapping[str, Any], *, timestamp: datetime | None = None) -> bytes:
    """Return the compact UTF-8 JSON body ``{"type": ..., "timestamp": ..., "data": {...}}``.

    ``timestamp`` defaults to now and is written as ISO-8601 UTC (``...Z``); a naive datetime is taken as UTC.
    ``event_type`` is usually one of :data:`EVENT_TYPES`; other dotted lower-case names are accepted for
    extensions. Raises :class:`InvalidInputError` for a bad type or data that is not JSON-serialisable.
    """
    _check_token(event_type, "event_type")
    if "." not in event_type or event_type != event_type.lower():
        raise InvalidInputError(
            f"event type {event_type!r} must be a dotted lower-case name such as {EVENT_PRODUCT_UPDATED!r}",
            code="bad_event_type",
        )
    if not isinstance(data, Mapping):
        raise InvalidInputError("webhook data must be a mapping", code="bad_payload")
    when = timestamp if timestamp is not None else datetime.now(timezone.utc)
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        text = json.dumps(
            {"type": event_type, "timestamp": stamp, "data": dict(data)},
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"webhook data is not JSON-serialisable: {exc}", code="bad_payload") from None
    return text.encode("utf-8")


# --------------------------------------------------------------------------- verification


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: int | None = None,
) -> None:
    """Check a received webhook; return ``None`` when it is authentic and fresh.

    Header names are case-insensitive. Any ``v1,`` entry of the space-separated ``webhook-signature`` list may
    match (other versions, e.g. ``v1a,``, are ignored); comparison is constant-time. The timestamp must be
    within ``tolerance`` seconds of ``now`` (default: the clock) in both directions.

    Raises :class:`WebhookVerificationError` with ``code`` one of ``bad_secret``, ``missing_header``,
    ``empty_body``, ``bad_timestamp``, ``stale_timestamp``, ``future_timestamp``, ``bad_signature``.
    """
    key = _secret_key(secret)
    lowered = {str(name).lower(): value for name, value in headers.items()}
    values: dict[str, str] = {}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        value = lowered.get(name)
        if not isinstance(value, str) or not value.strip():
            raise WebhookVerificationError(f"missing {name} header", code="missing_header")
        values[name] = value.strip()
    if not body:
        raise WebhookVerificationError("empty webhook body", code="empty_body")
    raw_ts = values["webhook-timestamp"]
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise WebhookVerificationError("webhook-timestamp is not a unix timestamp in seconds", code="bad_timestamp")
    timestamp = int(raw_ts)
    current = int(time.time()) if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook timestamp is too old (replayed or delayed)", code="stale_timestamp")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook timestamp is too far in the future", code="future_timestamp")
    payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    expected = _signature(key, values["webhook-id"], timestamp, payload).encode("ascii")
    matched = False
    # No early exit: every candidate is compared, so timing does not tell which entry matched.
    for entry in values["webhook-signature"].split():
        version, sep, candidate = entry.partition(",")
        if sep and version == "v1" and hmac.compare_digest(expected, candidate.encode("utf-8", "replace")):
            matched = True
    if not matched:
        raise WebhookVerificationError("no valid v1 webhook signature", code="bad_signature")


# --------------------------------------------------------------------------- SSRF guard


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


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one delivery attempt (never carries secrets or request headers)."""

    status: int | None
    ok: bool
    gone: bool
    retry_after: float | None
    response_excerpt: str
    error: str | None
    duration_ms: float

    def raise_for_error(self) -> None:
        """Raise :class:`DeliveryError` (code ``gone`` for 410) unless the delivery succeeded."""
        if not self.ok:
            raise DeliveryError(self.error or f"HTTP {self.status}", code="gone" if self.gone else None)


def truncate_for_log(text: str, limit: int = LOG_EXCERPT_LIMIT) -> str:
    """Return ``text`` made safe for one log line: control/format characters replaced, at most ``limit`` chars.

    Line breaks and tabs become spaces, other non-printable characters (including bidi overrides) become
    ``U+FFFD``; a truncated text ends with ``…``.
    """
    if limit < 1:
        return ""
    cleaned = "".join(
        ch if ch.isprintable() else (" " if ch in "\r\n\t" else "\ufffd") for ch in str(text)[: limit + 1]
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds, or an HTTP-date), ``None`` when absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


class _Deadline:
    """Shut a socket down when the overall deadline passes, so no slow answer can outlive it."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.fired = False
        #: The socket to shut down; replace it with the TLS socket after wrapping (wrapping detaches the original).
        self.sock = sock
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


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


def _describe_redirect(url: str, location: str | None, allowed: _AllowList, timeout: float) -> str:
    if not location:
        return "redirect refused (no Location header)"
    target = urllib.parse.urljoin(url, location)
    try:
        _prepare(target, allowed, resolve_timeout=max(timeout, 0.1))
        verdict = "target passes the URL guard"
    except UnsafeURLError as exc:
        verdict = f"target is unsafe: {exc.code}: {exc}"
    return f"redirect refused: Location {truncate_for_log(target, 200)!r} ({verdict})"


def deliver(
    url: str,
    secret: str,
    body: bytes,
    *,
    msg_id: str,
    event_type: str | None = None,
    allow: Iterable[str] = (),
    connect_timeout: float = 5.0,
    timeout: float = 15.0,
    timestamp: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST a signed ``body`` to ``url`` once and report the outcome (does not retry; see :func:`next_retry_delay`).

    The URL is checked with the same rules as :func:`check_url` (``allow`` likewise); the host is resolved
    once and the connection goes to a checked IP, with ``Host`` and TLS ``server_hostname`` set to the
    original host, and the peer address is re-checked after connecting. Raises :class:`UnsafeURLError`
    before any connection for an unsafe target, and :class:`WebhookVerificationError` / :class:`InvalidInputError`
    for a bad secret or ``msg_id``. Everything else (refused connection, timeouts, TLS errors, non-2xx,
    redirects, which are never followed) is returned as a :class:`DeliveryResult` with ``ok=False``.

    ``connect_timeout`` bounds each connection attempt, ``timeout`` the whole delivery (resolution,
    connection, request and answer). ``ssl_context`` overrides the default verifying TLS context
    (e.g. to trust a private CA).
    """
    started = time.monotonic()
    deadline = started + timeout
    allowed = _AllowList.parse(allow)
    headers = signed_headers(secret, msg_id, body, timestamp=timestamp, event_type=event_type)
    target = _prepare(url, allowed, resolve_timeout=min(connect_timeout, timeout))
    headers.update(
        {
            "Host": target.host_header,
            "User-Agent": _USER_AGENT,
            "Accept-Encoding": "identity",
            "Connection": "close",
            "Content-Length": str(len(body)),
        }
    )

    def result(
        status: int | None = None, *, error: str | None = None, excerpt: str = "", retry_after: float | None = None
    ) -> DeliveryResult:
        return DeliveryResult(
            status=status,
            ok=status is not None and 200 <= status < 300 and error is None,
            gone=status == 410,
            retry_after=retry_after,
            response_excerpt=excerpt,
            error=error,
            duration_ms=(time.monotonic() - started) * 1000.0,
        )

    try:
        sock = _connect(target, allowed, connect_timeout, deadline)
    except UnsafeURLError:
        raise
    except OSError as exc:
        return result(error=f"connection failed: {type(exc).__name__}: {exc}")

    guard = _Deadline(sock, deadline - time.monotonic())
    conn = http.client.HTTPConnection(target.host, target.port, timeout=max(deadline - time.monotonic(), 0.001))
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        if target.scheme == "https":
            context = ssl_context or ssl.create_default_context()
            sock = guard.sock = context.wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
            sock.do_handshake()
        conn.sock = sock
        conn.request("POST", target.path, body=bytes(body), headers=headers)
        response = conn.getresponse()
        raw = response.read(_MAX_READ_BYTES)
        status = response.status
        location = response.getheader("Location")
        retry_after = _parse_retry_after(response.getheader("Retry-After"))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if guard.fired or isinstance(exc, (TimeoutError, socket.timeout)):
            return result(error=f"timed out after {timeout:g} s")
        return result(error=f"request failed: {type(exc).__name__}: {exc}")
    finally:
        guard.cancel()
        conn.close()
        sock.close()

    excerpt = truncate_for_log(raw.decode("utf-8", "replace"))
    error: str | None = None
    if 300 <= status < 400:
        error = _describe_redirect(url, location, allowed, deadline - time.monotonic())
    elif status == 410:
        error = "HTTP 410 Gone: the receiver asks to stop deliveries to this endpoint"
    elif not 200 <= status < 300:
        error = f"HTTP {status}"
    return result(status, error=error, excerpt=excerpt, retry_after=retry_after)


# --------------------------------------------------------------------------- retry schedule


def next_retry_delay(
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` when the delivery is dead.

    ``attempt`` counts the failed attempts so far (1 after the first failure). The delay is
    ``RETRY_SCHEDULE[attempt - 1]`` with ±20 % jitter; a larger ``retry_after`` (the receiver's
    ``Retry-After``) wins, capped at :data:`MAX_RETRY_AFTER`. Once the schedule is exhausted the result is
    ``None`` whatever ``retry_after`` says.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise InvalidInputError("attempt counts failed attempts and starts at 1", code="bad_attempt")
    if attempt > len(RETRY_SCHEDULE):
        return None
    base = float(RETRY_SCHEDULE[attempt - 1])
    delay = base * (1.0 + (rng or _RNG).uniform(-RETRY_JITTER, RETRY_JITTER))
    if retry_after is not None and math.isfinite(retry_after) and retry_after > delay:
        delay = min(float(retry_after), MAX_RETRY_AFTER)
    return delay


_RNG = random.Random()
