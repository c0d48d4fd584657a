"""The outbound-HTTP policy: every request the library makes goes through this module.

* OpenAI-compatible APIs (the LLM description writer, the ``openai`` embedder, the sales assistant) use the
  official ``openai`` SDK, built by :func:`openai_client`: a timeout on every request, bounded retries (the
  SDK's: connection errors, timeouts, 408, 409, 429 and 5xx, with exponential backoff honouring
  ``Retry-After``) and an HTTP client that never follows redirects, so a ``302`` cannot carry the API key to
  another host. :func:`call_openai` turns the SDK's errors into the library's, with secrets scrubbed.
* Every other configurable URL (webhooks, Chatwoot) goes through :func:`guarded_request`: ``requests`` with
  an adapter that connects to the address the SSRF guard (:mod:`odoo_search_lib.ssrf`) checked, so DNS
  cannot be re-bound between check and connection, while ``Host`` and TLS SNI carry the URL's host name;
  redirects are never followed and one deadline bounds the whole exchange.
* Secrets are scrubbed from messages and reprs in one place: :func:`redact` (and :func:`redact_url`).
"""

from __future__ import annotations

import functools
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from .exceptions import ConfigError, SearchLibError, UnsafeURLError
from .ssrf import _AllowList, _connect, _prepare, _Target
from .types import JSONValue

if TYPE_CHECKING:  # the SDKs are imported on first use: most processes never call an LLM
    import openai
    import requests

    from .config import EmbedderSettings, LLMSettings

__all__ = [
    "HTTPAnswer",
    "call_openai",
    "guarded_request",
    "openai_client",
    "redact",
    "redact_url",
    "url_secrets",
]

#: Answers larger than this are refused (a misconfigured URL can point at anything).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: HTTP statuses the ``openai`` SDK retries (it retries connection errors and timeouts too).
RETRIED_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
#: Connecting never waits longer than this, whatever the overall timeout.
CONNECT_TIMEOUT = 10.0
#: Sent as ``Authorization`` by nobody: the placeholder key of a server that needs none (removed before sending).
_NO_KEY = "no-key-configured"

E = TypeVar("E", bound=SearchLibError)


# --------------------------------------------------------------------------- redaction


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by ``***`` and any ``user:password@`` of a URL hidden.

    The one place the library scrubs secrets (API keys, URL passwords) from messages, logs and reprs.
    Longer secrets are replaced first, so one that contains another is not half-revealed.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _scrub_userinfo(text)


def _scrub_userinfo(text: str) -> str:
    out: list[str] = []
    rest = text
    while "://" in rest:
        head, _, tail = rest.partition("://")
        out.append(head + "://")
        end = len(tail)
        for stop in "/ \t\r\n'\"?#":
            index = tail.find(stop)
            if index != -1:
                end = min(end, index)
        authority = tail[:end]
        if "@" in authority:
            authority = "***@" + authority.rsplit("@", 1)[1]
        out.append(authority)
        rest = tail[end:]
    out.append(rest)
    return "".join(out)


def redact_url(url: str) -> str:
    """``url`` without credentials or query string (which may carry a password), for logs and errors."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    credentials = "***@" if parts.username or parts.password else ""
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{credentials}{shown}{port}{parts.path}"


def url_secrets(url: str) -> list[str]:
    """The password of ``url`` (raw, percent-decoded, or a ``password=`` query value), for :func:`redact`."""
    found: set[str] = set()
    try:
        parts = urlsplit(url)
        if parts.password:
            found |= {parts.password, unquote(parts.password)}
        for name, value in parse_qsl(parts.query):
            if name.lower() == "password" and value:
                found |= {value, unquote(value)}
    except ValueError:
        pass
    return sorted(found, key=len, reverse=True)


# --------------------------------------------------------------------------- OpenAI-compatible APIs


def openai_client(settings: LLMSettings | EmbedderSettings, *, default_base_url: str = "") -> openai.OpenAI:
    """An ``openai.OpenAI`` client for ``settings`` (its ``base_url``, ``api_key``, ``timeout``, ``max_retries``).

    The client never follows redirects (a redirect answer is an ``openai.APIStatusError``), times out after
    ``settings.timeout`` seconds per attempt and retries at most ``settings.max_retries`` times. Without an
    API key no ``Authorization`` header is sent (local servers such as Ollama need none), and nothing is read
    from ``OPENAI_*`` environment variables: the settings are the whole configuration.
    """
    import openai

    base_url = (settings.base_url or default_base_url).rstrip("/")
    if not base_url:
        raise ConfigError("an OpenAI-compatible client needs a base_url")
    timeout = openai.Timeout(float(settings.timeout), connect=min(float(settings.timeout), CONNECT_TIMEOUT))
    http_client = openai.DefaultHttpxClient(
        follow_redirects=False,
        timeout=timeout,
        event_hooks={"request": [_drop_placeholder_key]} if not settings.api_key else None,
    )
    return openai.OpenAI(
        api_key=settings.api_key or _NO_KEY,
        organization="",
        project="",
        base_url=base_url,
        timeout=timeout,
        max_retries=int(settings.max_retries),
        http_client=http_client,
    )


def _drop_placeholder_key(request: Any) -> None:
    if request.headers.get("Authorization") == f"Bearer {_NO_KEY}":
        del request.headers["Authorization"]


class RawResponse(Protocol):
    """What an SDK ``with_raw_response`` call returns, as far as :func:`call_openai` reads it."""

    @property
    def content(self) -> bytes: ...


def call_openai(
    call: Callable[[], RawResponse],
    *,
    where: str,
    attempts: int,
    error: type[E],
    secrets: Iterable[str] = (),
) -> JSONValue:
    """Run ``call`` (an SDK ``with_raw_response`` request) and return the decoded JSON of its answer.

    Raises ``error`` with a message that names ``where`` and the failure, with ``secrets`` scrubbed by
    :func:`redact`, and chained to nothing (a server may echo the key in an error body the SDK keeps).
    ``attempts`` (the client's ``max_retries + 1``) only words the message.
    """
    import openai

    hidden = list(secrets)
    failure: SearchLibError | None = None
    try:
        raw = call()
        content = raw.content
    except openai.APIStatusError as exc:
        detail = exc.response.text[:500] if exc.response is not None else ""
        status = exc.status_code
        if 300 <= status < 400:
            reason = f"HTTP {status}: redirect refused (Location {exc.response.headers.get('location', '')!r})"
            failure = error(redact(f"{where} refused the request: {reason}", hidden))
        elif status in RETRIED_STATUSES:
            failure = error(redact(f"{where} failed after {attempts} attempt(s): HTTP {status}: {detail}", hidden))
        else:
            failure = error(redact(f"{where} refused the request: HTTP {status}: {detail}", hidden))
    except openai.APITimeoutError:
        failure = error(redact(f"{where} failed after {attempts} attempt(s): timed out", hidden))
    except openai.APIConnectionError as exc:
        cause = exc.__cause__ or exc
        reason = f"{type(cause).__name__}: {cause}"
        failure = error(redact(f"{where} failed after {attempts} attempt(s): connection failed: {reason}", hidden))
    except openai.OpenAIError as exc:
        failure = error(redact(f"{where} failed: {type(exc).__name__}: {exc}", hidden))
    if failure is not None:
        raise failure  # outside the handler: no __context__ that still holds the key
    if len(content) > MAX_RESPONSE_BYTES:
        raise error(f"{where} answered more than {MAX_RESPONSE_BYTES} bytes")
    try:
        return json.loads(content)
    except ValueError:
        preview = content[:200]
    raise error(redact(f"{where} answered something that is not JSON: {preview!r}", hidden))


# --------------------------------------------------------------------------- other configurable URLs


@dataclass(frozen=True)
class HTTPAnswer:
    """What a server answered to :func:`guarded_request` (the body is cut at ``max_bytes``)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class _Deadline:
    """Shut a socket down when the overall deadline passes, so no slow answer can outlive it."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        #: The socket to shut down; replaced by the TLS socket once wrapped (wrapping detaches the original).
        self.sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self.sock = sock
            fired = self.fired
        if fired:
            self._shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self.sock
        if sock is not None:
            self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        self._timer.cancel()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The verifying TLS context of every request that brings none: one per process, never changed after.

    It trusts what ``requests`` trusts by default (the system's roots and certifi's bundle), loaded once:
    loading the system's CA certificates was most of a webhook delivery's time in Odoo, for plain
    ``http://`` URLs too, when each request made its own. Certificate and host name checks are on
    (``ssl.create_default_context``); the adapter below never asks urllib3 to load more roots into it.
    Roots installed later are trusted after a restart.
    """
    from requests.utils import DEFAULT_CA_BUNDLE_PATH

    context = ssl.create_default_context()
    context.load_verify_locations(DEFAULT_CA_BUNDLE_PATH)
    return context


def _pinned_session(
    target: _Target,
    allowed: _AllowList,
    connect_timeout: float,
    deadline: float,
    guard: _Deadline,
    ssl_context: ssl.SSLContext | None,
) -> tuple[requests.Session, Callable[[], bool]]:
    """A ``requests`` session whose connections go to the SSRF-checked addresses of one target.

    urllib3 still builds the request from the URL (``Host`` header, TLS ``server_hostname`` and certificate
    check against the URL's host); only the socket comes from :func:`odoo_search_lib.ssrf._connect`, which
    connects to a checked IP and re-checks the peer. Hand-written because neither ``requests`` nor urllib3
    can connect to a chosen address while keeping the URL's name for SNI and certificate checks. Returns
    the session and a function telling whether a TCP connection was made. ``requests`` is imported here,
    not with the package: most processes never send a webhook.
    """
    import requests
    import urllib3.connection
    import urllib3.connectionpool
    from requests.adapters import HTTPAdapter

    connected = False

    def new_conn() -> socket.socket:
        nonlocal connected
        sock = _connect(target, allowed, connect_timeout, deadline)
        connected = True
        guard.watch(sock)
        return sock

    class Connection(urllib3.connection.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn()

    class TLSConnection(urllib3.connection.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return new_conn()

        def connect(self) -> None:
            super().connect()
            guard.watch(self.sock)

    class Pool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = Connection

    class TLSPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = TLSConnection

    class PinnedAdapter(HTTPAdapter):
        def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object) -> None:
            pool_kwargs["ssl_context"] = ssl_context or _default_ssl_context()
            super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": TLSPool}

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            # certificates required, as requests sets; but the pool's context holds its roots already:
            # requests would have urllib3 load certifi's bundle into that shared context on every connection
            super().cert_verify(conn, url, verify, cert)
            conn.ca_certs = conn.ca_cert_dir = None

    adapter = PinnedAdapter(max_retries=0, pool_connections=1, pool_maxsize=1)
    session = requests.Session()
    session.trust_env = False  # proxies from the environment would see the request
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session, lambda: connected


def guarded_request(
    method: str,
    url: str,
    *,
    error: type[E],
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    allow: Iterable[str] = (),
    connect_timeout: float = 5.0,
    timeout: float = 15.0,
    ssl_context: ssl.SSLContext | None = None,
    max_bytes: int = 8192,
) -> HTTPAnswer:
    """Send one request to a configurable ``url`` under the SSRF guard and return the answer, whatever its status.

    The URL is checked as :func:`odoo_search_lib.ssrf.check_url` does (``allow`` likewise), its host resolved
    once, and the connection made to a checked address (no DNS-rebinding window); redirects are answers,
    never followed; proxies from the environment are ignored (they would see the request). Raises
    :class:`UnsafeURLError` before any connection for an unsafe target, and ``error`` with ``code``
    ``connection_failed``, ``timeout`` or ``request_failed`` otherwise. ``connect_timeout`` bounds each
    connection attempt, ``timeout`` the whole exchange (resolution, connection, TLS, request, answer).
    """
    from requests.exceptions import RequestException, Timeout
    from urllib3.exceptions import HTTPError

    started = time.monotonic()
    deadline = started + timeout
    allowed = _AllowList.parse(allow)
    target = _prepare(url, allowed, resolve_timeout=min(connect_timeout, timeout))
    guard = _Deadline(deadline - time.monotonic())
    session, connected = _pinned_session(target, allowed, connect_timeout, deadline, guard, ssl_context)
    pinned_url = f"{target.scheme}://{target.host_header}{target.path}"
    failure: SearchLibError | None = None
    try:
        with session.request(
            method,
            pinned_url,
            data=bytes(body) if body else None,
            headers=dict(headers or {}),
            timeout=(connect_timeout, max(deadline - time.monotonic(), 0.001)),
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(max_bytes, decode_content=False) or b""
            return HTTPAnswer(response.status_code, dict(response.headers), raw)
    except UnsafeURLError:
        raise
    except (RequestException, HTTPError, OSError, ValueError) as exc:
        cause = _root_cause(exc)
        if guard.fired or isinstance(exc, Timeout) or isinstance(cause, (TimeoutError, socket.timeout)):
            failure = error(f"timed out after {timeout:g} s", code="timeout")
        elif not connected():
            failure = error(f"connection failed: {type(cause).__name__}: {cause}", code="connection_failed")
        else:
            failure = error(f"request failed: {type(cause).__name__}: {cause}", code="request_failed")
    finally:
        guard.cancel()
        session.close()
    raise failure


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost cause of a ``requests``/urllib3 error (the ``OSError`` or ``SSLError`` that started it)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if inner is None and exc.args and isinstance(exc.args[0], BaseException):
            inner = exc.args[0]
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc
