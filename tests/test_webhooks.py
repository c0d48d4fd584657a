"""Tests of signed webhooks: signing, verification, the SSRF guard, delivery to real local receivers, retries."""

from __future__ import annotations

import base64
import json
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from odoo_search_lib import _http
from odoo_search_lib.exceptions import (
    DeliveryError,
    InvalidInputError,
    SearchLibError,
    UnsafeURLError,
    WebhookVerificationError,
)
from odoo_search_lib.webhooks import (
    EVENT_TYPES,
    RETRY_SCHEDULE,
    DeliveryResult,
    build_payload,
    check_url,
    deliver,
    generate_secret,
    next_retry_delay,
    sign,
    signed_headers,
    truncate_for_log,
    verify,
)
from tests.localhttp import Handler, LocalServer, Reply, Request

StartServer = Callable[[Handler], LocalServer]

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

LOCAL = ["127.0.0.1"]


def _headers(secret: str, body: bytes, *, msg_id: str = "msg_1", timestamp: int | None = None) -> dict[str, str]:
    return signed_headers(secret, msg_id, body, timestamp=timestamp)


def _verifying_receiver(secret: str, status: int = 200) -> Handler:
    """A receiver that checks every request with ``verify`` and answers ``status`` (401 when it does not verify)."""

    def handle(request: Request) -> Reply:
        try:
            verify(secret, request.headers, request.body)
        except WebhookVerificationError as exc:
            return Reply(401, {"error": exc.code})
        return Reply(status, {"received": True})

    return handle


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- signing


def test_spec_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_spec_test_vector_verifies() -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIGNATURE}
    verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TS + 10)


def test_generate_secret_is_whsec_base64_of_32_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[len("whsec_") :], validate=True)) == 32
    assert generate_secret() != secret


def test_signed_headers() -> None:
    headers = signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY, timestamp=VECTOR_TS, event_type="product.updated")
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIGNATURE,
        "Content-Type": "application/json",
        "X-Odoo-Event": "product.updated",
    }
    assert "X-Odoo-Event" not in signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY)
    assert abs(int(signed_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY)["webhook-timestamp"]) - time.time()) < 5


@pytest.mark.parametrize("msg_id", ["", "msg 1", "msg\r\nX-Evil: 1"])
def test_signed_headers_refuses_bad_message_ids(msg_id: str) -> None:
    with pytest.raises(InvalidInputError):
        signed_headers(VECTOR_SECRET, msg_id, b"{}")


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no whsec_ prefix
        "whsec_",  # empty key
        "whsec_not base64!!",
        "whsec_" + base64.b64encode(b"short").decode(),  # below the 24 bytes the spec asks for
        "whsec_" + base64.b64encode(bytes(65)).decode(),
    ],
)
def test_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(WebhookVerificationError) as info:
        sign(secret, "msg_1", VECTOR_TS, b"{}")
    assert info.value.code == "bad_secret"
    assert isinstance(info.value, SearchLibError)
    with pytest.raises(WebhookVerificationError):
        verify(secret, _headers(VECTOR_SECRET, b"{}"), b"{}")


def test_build_payload() -> None:
    when = datetime(2024, 5, 1, 12, 30, 5, 123000, tzinfo=timezone.utc)
    body = build_payload("product.updated", {"id": 42, "name": "Café"}, timestamp=when)
    assert (
        body
        == '{"type":"product.updated","timestamp":"2024-05-01T12:30:05.123Z","data":{"id":42,"name":"Café"}}'.encode()
    )
    assert EVENT_TYPES == {"product.created", "product.updated", "product.deleted", "product.description_generated"}
    fresh = json.loads(build_payload("product.deleted", {}))
    assert fresh["timestamp"].endswith("Z") and fresh["data"] == {}


def test_build_payload_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        build_payload("", {})
    with pytest.raises(InvalidInputError):
        build_payload("product.updated", {"x": object()})
    with pytest.raises(InvalidInputError):
        build_payload("product.updated", {"x": float("nan")})


# --------------------------------------------------------------------------- verification


def test_round_trip_with_case_insensitive_headers() -> None:
    secret = generate_secret()
    body = build_payload("product.created", {"id": 1})
    headers = {name.upper(): value for name, value in _headers(secret, body).items()}
    verify(secret, headers, body)


def test_multiple_signatures_one_valid() -> None:
    secret = generate_secret()
    body = b'{"a":1}'
    headers = _headers(secret, body, timestamp=VECTOR_TS)
    old_secret_sig = sign(generate_secret(), "msg_1", VECTOR_TS, body)
    headers["webhook-signature"] = f"v1a,AAAA {old_secret_sig} garbage {headers['webhook-signature']}"
    verify(secret, headers, body, now=VECTOR_TS)


def test_only_v1_signatures_count() -> None:
    secret = generate_secret()
    body = b'{"a":1}'
    headers = _headers(secret, body, timestamp=VECTOR_TS)
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, body, now=VECTOR_TS)
    assert info.value.code == "bad_signature"


def test_tampered_body_is_refused() -> None:
    secret = generate_secret()
    headers = _headers(secret, b'{"price":10}', timestamp=VECTOR_TS)
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, b'{"price":1}', now=VECTOR_TS)
    assert info.value.code == "bad_signature"


def test_tampered_id_is_refused() -> None:
    secret = generate_secret()
    headers = _headers(secret, b"{}", timestamp=VECTOR_TS)
    headers["webhook-id"] = "msg_other"
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(secret, headers, b"{}", now=VECTOR_TS)


def test_wrong_secret_is_refused() -> None:
    body = b"{}"
    headers = _headers(generate_secret(), body, timestamp=VECTOR_TS)
    with pytest.raises(WebhookVerificationError) as info:
        verify(generate_secret(), headers, body, now=VECTOR_TS)
    assert info.value.code == "bad_signature"


def test_stale_timestamp_is_refused() -> None:
    secret = generate_secret()
    headers = _headers(secret, b"{}", timestamp=VECTOR_TS)
    verify(secret, headers, b"{}", now=VECTOR_TS + 300)  # the edge of the window is still fine
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, b"{}", now=VECTOR_TS + 301)
    assert info.value.code == "stale_timestamp"
    with pytest.raises(WebhookVerificationError):  # a replay a day later
        verify(secret, headers, b"{}", now=VECTOR_TS + 86400, tolerance=600)


def test_future_timestamp_is_refused() -> None:
    secret = generate_secret()
    headers = _headers(secret, b"{}", timestamp=VECTOR_TS + 301)
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, b"{}", now=VECTOR_TS)
    assert info.value.code == "future_timestamp"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_refused(missing: str) -> None:
    secret = generate_secret()
    headers = _headers(secret, b"{}")
    del headers[missing]
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, b"{}")
    assert info.value.code == "missing_header"
    headers[missing] = "  "
    with pytest.raises(WebhookVerificationError):
        verify(secret, headers, b"{}")


@pytest.mark.parametrize("value", ["soon", "1614265330.5", "-1614265330", "1e9", "１２３"])
def test_non_integer_timestamp_is_refused(value: str) -> None:
    secret = generate_secret()
    headers = _headers(secret, b"{}")
    headers["webhook-timestamp"] = value
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, headers, b"{}")
    assert info.value.code == "bad_timestamp"


def test_empty_body_is_refused() -> None:
    secret = generate_secret()
    with pytest.raises(WebhookVerificationError) as info:
        verify(secret, _headers(secret, b""), b"")
    assert info.value.code == "empty_body"


# --------------------------------------------------------------------------- SSRF guard


REFUSED_URLS = [
    ("ftp://93.184.216.34/hook", "bad_scheme"),
    ("file:///etc/passwd", "bad_scheme"),
    ("gopher://93.184.216.34/", "bad_scheme"),
    ("http:///no-host", "missing_host"),
    ("http://user:pw@93.184.216.34/", "credentials_in_url"),
    ("http://93.184.216.34:99999/", "bad_url"),
    ("http://127.0.0.1/", "forbidden_address"),
    ("http://10.1.2.3/", "forbidden_address"),
    ("http://192.168.0.1/", "forbidden_address"),
    ("http://172.16.0.1/", "forbidden_address"),
    ("http://100.64.0.1/", "forbidden_address"),
    ("http://169.254.169.254/latest/meta-data/", "metadata_address"),
    ("http://100.100.100.200/", "metadata_address"),
    ("http://[fd00:ec2::254]/", "metadata_address"),
    ("http://metadata.google.internal/computeMetadata/v1/", "metadata_address"),
    ("http://[::1]/", "forbidden_address"),
    ("http://[fd00::1]/", "forbidden_address"),
    ("http://[fe80::1]/", "forbidden_address"),
    ("http://[::ffff:127.0.0.1]/", "forbidden_address"),
    ("http://[::ffff:10.0.0.1]/", "forbidden_address"),
    ("http://[2002:7f00:1::]/", "forbidden_address"),  # 6to4 wrapping 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata_address"),  # NAT64 wrapping 169.254.169.254
    ("http://0.0.0.0/", "forbidden_address"),
    ("http://224.0.0.1/", "forbidden_address"),
    ("http://240.0.0.1/", "forbidden_address"),
    ("http://localhost:8069/", "forbidden_address"),
    ("http://LOCALHOST./", "forbidden_address"),
    ("http://2130706433/", "forbidden_address"),  # 127.0.0.1 spelled as one number
    ("http://0x7f.0.0.1/", "forbidden_address"),
    ("http://no-such-host.invalid/", "unresolvable"),
]


@pytest.mark.parametrize(("url", "code"), REFUSED_URLS)
def test_check_url_refuses(url: str, code: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        check_url(url)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:8080/hook", ["127.0.0.1"]),
        ("http://10.1.2.3/", ["10.0.0.0/8"]),
        ("http://192.168.0.1/", ["192.168.0.0/16"]),
        ("http://172.16.0.1/", ["172.16.0.1"]),
        ("http://100.64.0.1/", ["100.64.0.0/10"]),
        ("http://169.254.169.254/", ["169.254.169.254"]),
        ("http://[::1]/", ["::1"]),
        ("http://[fd00::1]/", ["[fd00::1]"]),
        ("http://[::ffff:127.0.0.1]/", ["127.0.0.0/8"]),
        ("http://0.0.0.0/", ["0.0.0.0"]),
        ("http://224.0.0.1/", ["224.0.0.0/4"]),
        ("http://localhost:8069/", ["localhost"]),
        ("http://localhost/", ["127.0.0.1"]),
        ("https://LocalHost./x", ["localhost"]),
    ],
)
def test_check_url_accepts_allow_listed(url: str, allow: list[str]) -> None:
    check_url(url, allow=allow)


def test_metadata_address_needs_an_exact_allow_entry() -> None:
    with pytest.raises(UnsafeURLError):
        check_url("http://169.254.169.254/", allow=["169.254.0.0/16"])
    with pytest.raises(UnsafeURLError):
        check_url("http://100.100.100.200/", allow=["100.64.0.0/10"])
    check_url("http://100.100.100.201/", allow=["100.64.0.0/10"])
    with pytest.raises(UnsafeURLError):
        check_url("http://[::ffff:169.254.169.254]/", allow=["169.254.0.0/16"])
    check_url("http://[::ffff:169.254.169.254]/", allow=["169.254.169.254"])


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://[::ffff:169.254.169.254]/", ["::ffff:0:0/96"]),  # IPv4-mapped network
        ("http://[::ffff:a9fe:a9fe]/", ["::/0"]),
        ("http://[64:ff9b::a9fe:a9fe]/", ["64:ff9b::/96"]),  # NAT64 network
        ("http://[64:ff9b::100.100.100.200]/", ["64:ff9b::/96", "100.64.0.0/10"]),
        ("http://[2002:a9fe:a9fe::1]/", ["2002::/16"]),  # 6to4
    ],
)
def test_ipv6_networks_never_unlock_a_metadata_address(url: str, allow: list[str]) -> None:
    with pytest.raises(UnsafeURLError) as caught:
        check_url(url, allow=allow)
    assert caught.value.code == "metadata_address"


def test_nat64_network_still_unlocks_ordinary_private_addresses() -> None:
    check_url("http://[64:ff9b::a00:1]/", allow=["64:ff9b::/96"])  # 10.0.0.1 through NAT64
    check_url("http://[64:ff9b::a9fe:a9fe]/", allow=["64:ff9b::a9fe:a9fe"])  # the exact address: allowed


def test_allow_list_for_another_host_does_not_help() -> None:
    with pytest.raises(UnsafeURLError):
        check_url("http://localhost/", allow=["hooks.internal", "10.0.0.0/8"])


def test_check_url_accepts_public_literal_addresses_without_dns() -> None:
    check_url("http://93.184.216.34/hook")
    check_url("https://93.184.216.34:8443/hook?x=1")
    check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/hook")


# --------------------------------------------------------------------------- delivery


def test_deliver_ok_and_receiver_verifies(local_server: StartServer) -> None:
    secret = generate_secret()
    server = local_server(_verifying_receiver(secret))
    body = build_payload("product.updated", {"id": 7})
    result = deliver(
        f"{server.url}/hooks/odoo?x=1", secret, body, msg_id="msg_ok", event_type="product.updated", allow=LOCAL
    )
    assert result.ok and result.status == 200 and result.error is None
    assert not result.gone and result.retry_after is None
    assert json.loads(result.response_excerpt) == {"received": True}
    assert result.duration_ms > 0
    (request,) = server.requests
    assert request.method == "POST" and request.path == "/hooks/odoo?x=1"
    assert request.body == body
    assert request.headers["webhook-id"] == "msg_ok"
    assert request.headers["x-odoo-event"] == "product.updated"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == server.url.removeprefix("http://")


def test_deliver_by_allow_listed_hostname_keeps_host_header(local_server: StartServer) -> None:
    secret = generate_secret()
    server = local_server(_verifying_receiver(secret))
    port = server.url.rsplit(":", 1)[1]
    result = deliver(f"http://localhost:{port}/", secret, b"{}", msg_id="msg_h", allow=["localhost"])
    assert result.ok, result.error
    assert server.requests[0].headers["host"] == f"localhost:{port}"


def test_deliver_failure_then_success_is_deduplicated_by_webhook_id(local_server: StartServer) -> None:
    secret = generate_secret()
    seen: set[str] = set()
    processed: list[Any] = []
    answers = iter([500, 200])

    def receiver(request: Request) -> Reply:
        verify(secret, request.headers, request.body)
        msg_id = request.headers["webhook-id"]
        if msg_id not in seen:  # processed, then the receiver crashes before answering 2xx
            seen.add(msg_id)
            processed.append(request.json())
        status = next(answers)
        return Reply(status, "boom" if status == 500 else "ok")

    server = local_server(receiver)
    body = build_payload("product.created", {"id": 3})
    first = deliver(server.url, secret, body, msg_id="msg_retry", allow=LOCAL)
    assert not first.ok and first.status == 500 and first.error == "HTTP 500"
    assert first.response_excerpt == "boom"
    second = deliver(server.url, secret, body, msg_id="msg_retry", allow=LOCAL)
    assert second.ok and second.status == 200
    assert [r.headers["webhook-id"] for r in server.requests] == ["msg_retry", "msg_retry"]
    assert len(processed) == 1
    with pytest.raises(DeliveryError):
        first.raise_for_error()
    second.raise_for_error()


def test_deliver_gone(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(410, "endpoint removed"))
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_gone", allow=LOCAL)
    assert result.gone and not result.ok and result.status == 410 and "410" in (result.error or "")
    with pytest.raises(DeliveryError) as info:
        result.raise_for_error()
    assert info.value.code == "gone"


def test_deliver_reads_numeric_retry_after(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(429, "slow down", headers={"Retry-After": "7"}))
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_429", allow=LOCAL)
    assert result.status == 429 and not result.ok and result.retry_after == 7.0
    assert next_retry_delay(1, retry_after=result.retry_after, rng=random.Random(0)) == 7.0


def test_deliver_never_follows_redirects(local_server: StartServer) -> None:
    other = local_server(lambda request: Reply(200, "should never be reached"))
    server = local_server(lambda request: Reply(302, headers={"Location": f"{other.url}/"}))
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_302", allow=LOCAL)
    assert not result.ok and result.status == 302
    assert "redirect" in (result.error or "") and other.url in (result.error or "")
    assert len(server.requests) == 1
    assert other.requests == []


def test_redirect_to_metadata_is_reported_unsafe(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(307, headers={"Location": "http://169.254.169.254/latest/"}))
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_307", allow=LOCAL)
    assert not result.ok and result.status == 307
    assert "redirect refused" in (result.error or "") and "unsafe" in (result.error or "")
    assert "169.254.169.254" in (result.error or "")


def test_deliver_connection_refused_returns_a_result() -> None:
    result = deliver(f"http://127.0.0.1:{_closed_port()}/", generate_secret(), b"{}", msg_id="msg_x", allow=LOCAL)
    assert result.status is None and not result.ok and not result.gone
    assert result.error and "connection failed" in result.error


def test_deliver_slow_receiver_times_out(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(200, "late", delay=1.5))
    started = time.monotonic()
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_slow", allow=LOCAL, timeout=0.5)
    elapsed = time.monotonic() - started
    assert result.status is None and not result.ok and "timed out" in (result.error or "")
    assert elapsed < 1.2


def test_deliver_overall_deadline_beats_a_trickling_receiver() -> None:
    """A receiver sending one byte every 0.1 s never trips a per-read timeout; the overall deadline stops it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    worker = threading.Thread(target=trickle, daemon=True)
    worker.start()
    try:
        started = time.monotonic()
        result = deliver(
            f"http://127.0.0.1:{port}/",
            generate_secret(),
            b"{}",
            msg_id="msg_drip",
            allow=LOCAL,
            connect_timeout=0.3,
            timeout=0.6,
        )
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
        worker.join(2)
    assert result.status is None and "timed out" in (result.error or "")
    assert elapsed < 1.3


def test_deliver_deadline_covers_a_stalled_tls_handshake() -> None:
    """A listener that accepts TCP but never answers the TLS handshake cannot hold a delivery past its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
        started = time.monotonic()
        result = deliver(url, generate_secret(), b"{}", msg_id="msg_tls_stall", allow=LOCAL, timeout=0.4)
        elapsed = time.monotonic() - started
    assert result.status is None and "timed out" in (result.error or "")
    assert elapsed < 1.0


def test_deliver_percent_encodes_the_request_target(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(204))
    result = deliver(f"{server.url}/hooks/café?shop=ü&x=%2F", generate_secret(), b"{}", msg_id="msg_q", allow=LOCAL)
    assert result.ok, result.error
    assert server.requests[0].path == "/hooks/caf%C3%A9?shop=%C3%BC&x=%2F"


def test_deliver_refuses_unsafe_target_before_connecting(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(200))
    with pytest.raises(UnsafeURLError):
        deliver(server.url, generate_secret(), b"{}", msg_id="msg_unsafe")
    port = server.url.rsplit(":", 1)[1]
    with pytest.raises(UnsafeURLError):
        deliver(f"http://localhost:{port}/", generate_secret(), b"{}", msg_id="msg_unsafe", allow=["10.0.0.0/8"])
    with pytest.raises(UnsafeURLError):
        deliver(f"ftp://127.0.0.1:{port}/", generate_secret(), b"{}", msg_id="msg_unsafe", allow=LOCAL)
    assert server.requests == []


def test_deliver_with_bad_secret_raises_before_connecting(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(200))
    with pytest.raises(WebhookVerificationError):
        deliver(server.url, "not-a-secret", b"{}", msg_id="msg_1", allow=LOCAL)
    assert server.requests == []


def test_deliver_truncates_the_response_excerpt(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(500, "line1\r\nInjected: yes\n" + "x" * 10_000))
    result = deliver(server.url, generate_secret(), b"{}", msg_id="msg_big", allow=LOCAL)
    assert result.status == 500
    assert len(result.response_excerpt) <= 512
    assert result.response_excerpt.startswith("line1  Injected: yes ")
    assert result.response_excerpt.endswith("…")
    assert "\n" not in result.response_excerpt and "\r" not in result.response_excerpt


def test_delivery_result_is_frozen() -> None:
    result = DeliveryResult(200, True, False, None, "", None, 1.0)
    with pytest.raises(AttributeError):
        result.status = 500  # type: ignore[misc]


# --------------------------------------------------------------------------- https


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext, list[dict[str, str]]]]:
    """A real HTTPS receiver on 127.0.0.1 with a self-signed certificate for ``localhost``."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(cert))
    try:
        yield f"https://localhost:{httpd.server_address[1]}/hook", client_context, received
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_deliver_https_checks_the_certificate_against_the_original_host(
    tls_receiver: tuple[str, ssl.SSLContext, list[dict[str, str]]],
) -> None:
    url, context, received = tls_receiver
    result = deliver(url, generate_secret(), b"{}", msg_id="msg_tls", allow=["localhost"], ssl_context=context)
    assert result.ok and result.status == 204, result.error
    assert received[0]["host"] == url.removeprefix("https://").removesuffix("/hook")
    untrusted = deliver(url, generate_secret(), b"{}", msg_id="msg_tls", allow=["localhost"], timeout=30)
    assert untrusted.status is None and "certificate" in (untrusted.error or "").lower()
    by_ip = deliver(
        url.replace("localhost", "127.0.0.1"),
        generate_secret(),
        b"{}",
        msg_id="msg_tls",
        allow=LOCAL,
        ssl_context=context,
        timeout=30,
    )
    assert by_ip.status is None and by_ip.error  # the certificate names localhost, not 127.0.0.1
    assert len(received) == 1


def test_deliveries_share_one_verifying_context(
    tls_receiver: tuple[str, ssl.SSLContext, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading CA certificates for every delivery cost more than the delivery itself: roots are loaded once."""
    url, private_ca, received = tls_receiver
    made: list[ssl.SSLContext] = []
    loads: list[object] = []
    real_create, real_load = ssl.create_default_context, ssl.SSLContext.load_verify_locations

    def counting_create(*args: object, **kwargs: object) -> ssl.SSLContext:
        made.append(real_create(*args, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    def counting_load(context: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        real_load(context, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl, "create_default_context", counting_create)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting_load)
    _http._default_ssl_context.cache_clear()  # made within this test, so it is counted
    for attempt in range(3):  # the shared context still refuses the self-signed certificate, each time
        untrusted = deliver(url, generate_secret(), b"{}", msg_id=f"msg_{attempt}", allow=["localhost"], timeout=30)
        assert untrusted.status is None and "certificate" in (untrusted.error or "").lower()
    assert len(made) == 1 and len(loads) == 1  # certifi's bundle, once
    shared = _http._default_ssl_context()
    assert (shared.verify_mode, shared.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert received == []
    # a context of the caller's (a private CA) is used as it is: nothing is loaded into it either
    for attempt in range(2):
        trusted = deliver(
            url, generate_secret(), b"{}", msg_id=f"msg_p{attempt}", allow=["localhost"], ssl_context=private_ca
        )
        assert trusted.ok, trusted.error
    assert len(loads) == 1 and len(received) == 2


# --------------------------------------------------------------------------- retry schedule


def test_retry_schedule_is_exhausted() -> None:
    rng = random.Random(1)
    delays = [next_retry_delay(attempt, rng=rng) for attempt in range(1, len(RETRY_SCHEDULE) + 1)]
    assert all(delay is not None for delay in delays)
    assert next_retry_delay(len(RETRY_SCHEDULE) + 1, rng=rng) is None
    assert next_retry_delay(len(RETRY_SCHEDULE) + 1, retry_after=10.0) is None
    assert next_retry_delay(100) is None
    with pytest.raises(InvalidInputError):
        next_retry_delay(0)


def test_retry_jitter_stays_within_twenty_percent() -> None:
    rng = random.Random(42)
    for attempt, base in enumerate(RETRY_SCHEDULE, start=1):
        samples = [next_retry_delay(attempt, rng=rng) for _ in range(200)]
        assert all(s is not None and base * 0.8 <= s <= base * 1.2 for s in samples)
        assert len({round(s or 0, 6) for s in samples}) > 100  # really jittered
    assert next_retry_delay(3, rng=random.Random(7)) == next_retry_delay(3, rng=random.Random(7))


def test_retry_after_is_honoured_when_larger_and_capped() -> None:
    rng = random.Random(3)
    assert next_retry_delay(1, retry_after=60.0, rng=rng) == 60.0
    small = next_retry_delay(2, retry_after=1.0, rng=rng)
    assert small is not None and 240 <= small <= 360  # a smaller Retry-After does not shorten the schedule
    assert next_retry_delay(1, retry_after=10 * 86400.0, rng=rng) == 86400.0


def test_truncate_for_log() -> None:
    assert truncate_for_log("short") == "short"
    assert truncate_for_log("a\tb\nc\x1b[31m\u202e") == "a b c\ufffd[31m\ufffd"
    long = truncate_for_log("y" * 10_000, limit=100)
    assert len(long) == 100 and long.endswith("…")
    assert len(truncate_for_log("z" * 10_000)) == 512
