"""The outbound-HTTP policy (odoo_search_lib._http): no redirects with credentials, pinned connections, redaction."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from odoo_search_lib._http import guarded_request, openai_client, redact, redact_url
from odoo_search_lib.config import EmbedderSettings, LLMSettings
from odoo_search_lib.embeddings.openai import OpenAIEmbedder
from odoo_search_lib.enrich import LLMWriter, ProductFacts
from odoo_search_lib.exceptions import DeliveryError, EmbeddingError, LLMError, UnsafeURLError
from tests.localhttp import LocalServer, Reply, Request

KEY = "sk-test-0123456789abcdef"
StartServer = Callable[[Callable[[Request], Reply]], LocalServer]


def _redirecting_pair(local_server: StartServer) -> tuple[LocalServer, LocalServer]:
    """A server that answers 302 to another host (``localhost`` instead of ``127.0.0.1``, another port)."""
    other = local_server(lambda request: Reply(200, {"data": [], "choices": []}))
    port = other.url.rsplit(":", 1)[1]
    first = local_server(lambda request: Reply(302, headers={"Location": f"http://localhost:{port}/v1/stolen"}))
    return first, other


def test_llm_writer_never_follows_a_redirect_with_the_key(local_server: StartServer) -> None:
    first, other = _redirecting_pair(local_server)
    writer = LLMWriter(LLMSettings(base_url=f"{first.url}/v1", model="m", api_key=KEY, max_retries=2))
    with pytest.raises(LLMError) as caught:
        writer.write(ProductFacts(name="Chaleira"))
    assert "302" in str(caught.value) and "redirect" in str(caught.value) and KEY not in str(caught.value)
    assert len(first.requests) == 1 and first.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert other.requests == []  # neither the key nor the request reached the other host


def test_openai_embedder_never_follows_a_redirect_with_the_key(local_server: StartServer) -> None:
    first, other = _redirecting_pair(local_server)
    embedder = OpenAIEmbedder("local-embed", base_url=f"{first.url}/v1", api_key=KEY, dim=4)
    with pytest.raises(EmbeddingError, match="302"):
        embedder.embed_query("a")
    assert other.requests == []


def test_openai_client_factory_for_the_assistant(local_server: StartServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory callers use directly: redirects refused, no key from the environment, timeouts set."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://192.0.2.1/v1")
    answer = {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []}
    server = local_server(lambda request: Reply(200, answer))
    client = openai_client(LLMSettings(base_url=f"{server.url}/v1", model="m", timeout=3.0, max_retries=1))
    client.chat.completions.with_raw_response.create(model="m", messages=[{"role": "user", "content": "oi"}])
    (request,) = server.requests
    assert "authorization" not in request.headers and request.path == "/v1/chat/completions"
    assert client.max_retries == 1 and client.timeout == 3.0

    first, other = _redirecting_pair(local_server)
    keyed = openai_client(EmbedderSettings(provider="openai", model="e", base_url=f"{first.url}/v1", api_key=KEY))
    with pytest.raises(Exception) as caught:
        keyed.embeddings.create(model="e", input=["a"])
    assert getattr(caught.value, "status_code", None) == 302
    assert other.requests == []


def test_guarded_request_connects_to_the_checked_address(monkeypatch: pytest.MonkeyPatch, local_server) -> None:
    """DNS that re-binds after the check (first 127.0.0.1, then the metadata address) is never asked again."""
    server = local_server(lambda request: Reply(204))
    port = int(server.url.rsplit(":", 1)[1])
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "169.254.169.254", "169.254.169.254"])
    lookups: list[str] = []

    def rebinding_dns(host, *args, **kwargs):  # a stand-in for a hostile DNS server
        if host != "rebind.example":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    answer = guarded_request(
        "POST", f"http://rebind.example:{port}/hook", error=DeliveryError, body=b"{}", allow=["127.0.0.1/32"]
    )
    assert answer.status == 204
    assert lookups == ["rebind.example"]  # resolved once, by the guard
    assert server.requests[0].headers["host"] == f"rebind.example:{port}"


def test_guarded_request_refuses_a_name_resolving_to_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
    )
    with pytest.raises(UnsafeURLError) as caught:
        guarded_request("GET", "http://innocent.example/", error=DeliveryError, allow=["169.254.0.0/16"])
    assert caught.value.code == "metadata_address"


def test_guarded_request_errors_have_codes(local_server: StartServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as caught:
        guarded_request("GET", f"http://127.0.0.1:{port}/", error=DeliveryError, allow=["127.0.0.1"])
    assert caught.value.code == "connection_failed"
    slow = local_server(lambda request: Reply(200, "late", delay=1.0))
    with pytest.raises(DeliveryError) as caught:
        guarded_request("GET", slow.url, error=DeliveryError, allow=["127.0.0.1"], timeout=0.3)
    assert caught.value.code == "timeout"


def test_redact_is_the_one_scrubber() -> None:
    text = "POST https://bob:s3cr3t@api.example/v1?x=1 failed with key sk-abc and sk-abcdef"
    cleaned = redact(text, ["sk-abc", "sk-abcdef", ""])
    assert "s3cr3t" not in cleaned and "bob" not in cleaned and "sk-abc" not in cleaned
    assert "https://***@api.example/v1" in cleaned
    assert redact_url("redis://:pw@cache.internal:6379/0?password=pw") == "redis://***@cache.internal:6379/0"
    assert redact_url("http://[::1]:8080/x") == "http://[::1]:8080/x"


def test_llm_writer_repr_and_errors_hide_url_credentials(local_server: StartServer) -> None:
    server = local_server(lambda request: Reply(401, {"error": f"bad auth {request.headers.get('authorization')}"}))
    base = server.url.replace("http://", "http://user:pa55word@") + "/v1"
    writer = LLMWriter(LLMSettings(base_url=base, model="m", api_key=KEY))
    with pytest.raises(LLMError) as caught:
        writer.write(ProductFacts(name="Chaleira"))
    for shown in (str(caught.value), repr(writer)):
        assert "pa55word" not in shown and KEY not in shown
