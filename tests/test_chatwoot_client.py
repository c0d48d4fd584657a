"""The Chatwoot API client against a stand-in Chatwoot on 127.0.0.1 (real HTTP, nothing patched)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest

from odoo_search_lib import ChatwootAPIError, ConfigError, UnsafeURLError
from odoo_search_lib.chatwoot import BOT_MARKER, ChatwootClient, MessageEvent, parse_event, verify_signature
from odoo_search_lib.chatwoot.testing import StandInChatwoot, message_payload, send_delivery
from tests.localhttp import LocalServer, Reply

TOKEN = "s3cr3t-user-token-Zq9"
LOCAL = ["127.0.0.1"]


@pytest.fixture
def chatwoot() -> Iterator[StandInChatwoot]:
    with StandInChatwoot(account_id=1, token=TOKEN) as server:
        yield server


def client_for(server: StandInChatwoot, **kwargs: object) -> ChatwootClient:
    options: dict = {"allow": LOCAL, "timeout": 5.0, "max_retry_wait": 1.0, **kwargs}
    return ChatwootClient(server.url, options.pop("account_id", 1), options.pop("token", TOKEN), **options)


def test_reply_carries_the_marker_and_the_token_header(chatwoot: StandInChatwoot) -> None:
    sent = client_for(chatwoot).send_message(128, "Olá! Temos sim.", reply_to=9876)
    assert sent.conversation_id == 128 and not sent.private and sent.id > 0
    [posted] = chatwoot.messages
    assert posted["content"] == "Olá! Temos sim."
    assert posted["content_attributes"] == {BOT_MARKER: True, "odoo_reply_to": 9876}
    [call] = chatwoot.calls
    assert call.path == "/api/v1/accounts/1/conversations/128/messages"
    assert call.headers["api_access_token"] == TOKEN and "authorization" not in call.headers
    assert call.body["message_type"] == "outgoing" and call.body["private"] is False


def test_private_note_is_marked_too(chatwoot: StandInChatwoot) -> None:
    sent = client_for(chatwoot).send_private_note(128, "Cliente pediu um humano: quer desconto.")
    assert sent.private and chatwoot.messages == []
    assert chatwoot.notes[0]["content_attributes"] == {BOT_MARKER: True}


def test_toggle_status_and_typing(chatwoot: StandInChatwoot) -> None:
    client = client_for(chatwoot)
    assert client.toggle_status(128, "open") == "open"
    client.toggle_typing_status(128, "on")
    client.toggle_typing_status(128, "off")
    assert chatwoot.statuses == [(128, "open")]
    assert chatwoot.typing == [(128, "on"), (128, "off")]
    assert chatwoot.calls[1].body == {"typing_status": "on", "is_private": False}


def test_bad_arguments_are_refused_before_any_call(chatwoot: StandInChatwoot) -> None:
    client = client_for(chatwoot)
    for call in (
        lambda: client.toggle_status(128, "closed"),  # type: ignore[arg-type]
        lambda: client.toggle_typing_status(128, "maybe"),  # type: ignore[arg-type]
        lambda: client.send_message(128, "   "),
        lambda: client.send_message(0, "oi"),
        lambda: client.send_message(True, "oi"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError):
            call()
    assert chatwoot.calls == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"base_url": "ftp://chatwoot"}, "bad_chatwoot_url"),
        ({"account_id": 0}, "bad_account_id"),
        ({"api_token": ""}, "missing_token"),
        ({"api_token": "tok\nen"}, "missing_token"),
        ({"timeout": 0}, "bad_timeout"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict, code: str) -> None:
    settings = {"base_url": "https://chatwoot.example", "account_id": 1, "api_token": TOKEN, **kwargs}
    with pytest.raises(ConfigError) as caught:
        ChatwootClient(settings.pop("base_url"), settings.pop("account_id"), settings.pop("api_token"), **settings)
    assert caught.value.code == code


def test_token_never_in_repr_errors_or_logs(chatwoot: StandInChatwoot, caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(chatwoot)
    assert TOKEN not in repr(client) and "***" in repr(client)
    chatwoot.fail_next(401, body={"error": f"Invalid Access Token {TOKEN}"})
    with caplog.at_level(logging.DEBUG), pytest.raises(ChatwootAPIError) as caught:
        client.send_message(128, "oi")
    assert caught.value.code == "unauthorized" and caught.value.status == 401
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.args)
    assert caught.value.__cause__ is None and TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "unauthorized"), (403, "forbidden"), (404, "not_found"), (422, "unprocessable"), (400, "unprocessable")],
)
def test_client_errors_are_mapped_and_not_retried(chatwoot: StandInChatwoot, status: int, code: str) -> None:
    chatwoot.fail_next(status, times=3)
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot).toggle_status(128, "open")
    assert (caught.value.code, caught.value.status) == (code, status)
    assert len(chatwoot.calls) == 1


def test_wrong_token_and_other_account_as_chatwoot_answers(chatwoot: StandInChatwoot) -> None:
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, token="wrong").send_message(128, "oi")
    assert caught.value.code == "unauthorized"
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, account_id=2).send_message(128, "oi")
    assert caught.value.code == "not_found"


def test_bot_token_cannot_show_typing() -> None:
    with StandInChatwoot(token=TOKEN, token_kind="agent_bot") as bot:
        client = client_for(bot)
        client.send_message(128, "oi")
        with pytest.raises(ChatwootAPIError) as caught:
            client.toggle_typing_status(128, "on")
        assert caught.value.code == "unauthorized"
        assert bot.messages[0]["sender"]["type"] == "agent_bot"


def test_rate_limit_is_retried_honouring_retry_after(chatwoot: StandInChatwoot) -> None:
    chatwoot.fail_next(429, times=2, retry_after="0")
    client_for(chatwoot, max_retries=2).send_message(128, "oi")
    assert len(chatwoot.calls) == 3 and len(chatwoot.messages) == 1


def test_a_long_retry_after_fails_at_once_with_the_wait(chatwoot: StandInChatwoot) -> None:
    chatwoot.fail_next(429, retry_after="120")
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, max_retry_wait=5.0).send_message(128, "oi")
    assert caught.value.code == "rate_limited" and caught.value.retry_after == pytest.approx(120.0)
    assert len(chatwoot.calls) == 1


def test_server_errors_are_retried_a_bounded_number_of_times(chatwoot: StandInChatwoot) -> None:
    chatwoot.fail_next(500, times=3, retry_after="0")
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, max_retries=2).toggle_status(128, "pending")
    assert (caught.value.code, caught.value.status) == ("unavailable", 500)
    assert len(chatwoot.calls) == 3
    chatwoot.fail_next(503, retry_after="0")
    assert client_for(chatwoot).toggle_status(128, "pending") == "pending"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_message_answered_with_a_server_error_is_not_resent(chatwoot: StandInChatwoot, status: int) -> None:
    """A proxy's 502 can follow a message Chatwoot saved: posting it again could show it twice."""
    chatwoot.fail_next(status, times=3, retry_after="0")
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, max_retries=2).send_message(128, "oi")
    assert (caught.value.code, caught.value.status, caught.value.uncertain) == ("unavailable", status, True)
    assert len(chatwoot.calls) == 1


def test_a_refused_message_is_certainly_not_posted(chatwoot: StandInChatwoot) -> None:
    chatwoot.fail_next(422)
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot).send_private_note(128, "nota")
    assert caught.value.code == "unprocessable" and not caught.value.uncertain
    chatwoot.fail_next(429, times=5, retry_after="0")
    with pytest.raises(ChatwootAPIError) as caught:
        client_for(chatwoot, max_retries=1).send_message(128, "oi")
    assert caught.value.code == "rate_limited" and not caught.value.uncertain


def test_redirects_are_refused_and_the_token_goes_nowhere(chatwoot: StandInChatwoot) -> None:
    with StandInChatwoot(token=TOKEN) as elsewhere:
        chatwoot.fail_next(302, location=elsewhere.url + "/api/v1/accounts/1/conversations/128/messages", body={})
        with pytest.raises(ChatwootAPIError) as caught:
            client_for(chatwoot).send_message(128, "oi")
        assert caught.value.code == "redirect_refused" and caught.value.status == 302
        assert elsewhere.calls == [] and len(chatwoot.calls) == 1


def recorded(server: LocalServer, expected: int) -> int:
    """How many requests ``server`` recorded, once it recorded ``expected`` (or 5 s passed) and settled.

    The client sends every attempt before it raises; only the server's recording can lag behind on a busy machine.
    """
    deadline = time.monotonic() + 5.0
    while len(server.requests) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    return len(server.requests)


def test_a_message_is_not_resent_after_a_timeout_but_a_status_toggle_is() -> None:
    with LocalServer(lambda request: Reply(200, {"id": 1}, delay=3.0)) as slow:
        client = ChatwootClient(slow.url, 1, TOKEN, allow=LOCAL, timeout=0.5, max_retries=2, max_retry_wait=1.0)
        with pytest.raises(ChatwootAPIError) as caught:
            client.send_message(128, "oi")
        assert caught.value.code == "timeout" and caught.value.uncertain
        assert recorded(slow, 1) == 1
        with pytest.raises(ChatwootAPIError) as caught:
            client.toggle_status(128, "open")
        assert caught.value.code == "timeout" and not caught.value.uncertain
        assert recorded(slow, 4) == 1 + 3


def test_a_host_that_does_not_resolve_is_a_failed_connection() -> None:
    """DNS down is an outage (nothing was sent), not a configuration error; typing never raises."""
    client = ChatwootClient("http://chatwoot.invalid", 1, TOKEN, max_retries=1, max_retry_wait=0.1, connect_timeout=2)
    with pytest.raises(ChatwootAPIError) as caught:
        client.send_message(128, "oi")
    assert caught.value.code == "connection_failed" and not caught.value.uncertain
    with client.typing(128):
        pass


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ChatwootClient(f"http://127.0.0.1:{port}", 1, TOKEN, allow=LOCAL, max_retries=1, max_retry_wait=1.0)
    with pytest.raises(ChatwootAPIError) as caught:
        client.send_message(128, "oi")
    assert caught.value.code == "connection_failed" and TOKEN not in str(caught.value)


def test_answers_that_are_not_json_are_bad_responses() -> None:
    with LocalServer(lambda request: Reply(200, "<html>proxy</html>")) as proxy:
        with pytest.raises(ChatwootAPIError) as caught:
            ChatwootClient(proxy.url, 1, TOKEN, allow=LOCAL).send_message(128, "oi")
        assert caught.value.code == "bad_response" and caught.value.uncertain, "a 200 means it was posted"
    with LocalServer(lambda request: Reply(200, {"payload": {}})) as odd:
        with pytest.raises(ChatwootAPIError) as caught:
            ChatwootClient(odd.url, 1, TOKEN, allow=LOCAL).toggle_status(128, "open")
        assert caught.value.code == "bad_response"


def test_private_addresses_need_the_allow_list(chatwoot: StandInChatwoot) -> None:
    with pytest.raises(UnsafeURLError):
        ChatwootClient(chatwoot.url, 1, TOKEN).send_message(128, "oi")
    assert chatwoot.calls == []


def test_send_delivery_posts_what_chatwoot_posts() -> None:
    body = b'{"event":"message_created","id":9876}'
    with LocalServer(lambda request: Reply(200, "")) as receiver:
        response = send_delivery(receiver.url + "/api/v1/chatwoot/webhook", body, secret="s", delivery_id="d-1")
        assert response.status_code == 200
        [request] = receiver.requests
    assert request.body == body and request.headers["x-chatwoot-delivery"] == "d-1"
    assert verify_signature("s", request.body, request.headers) > 0
    with LocalServer(lambda request: Reply(200, "")) as receiver:
        send_delivery(receiver.url, message_payload(message_id=5), delivery_id="")
        [request] = receiver.requests
    assert "x-chatwoot-signature" not in request.headers and "x-chatwoot-delivery" not in request.headers
    assert isinstance(parse_event(request.body, account_id=1), MessageEvent)


def test_typing_is_always_switched_off(chatwoot: StandInChatwoot) -> None:
    client = client_for(chatwoot)
    with client.typing(128):
        assert chatwoot.typing == [(128, "on")]
    with pytest.raises(RuntimeError), client.typing(129):
        raise RuntimeError("the assistant failed")
    assert chatwoot.typing == [(128, "on"), (128, "off"), (129, "on"), (129, "off")]


def test_a_failing_typing_indicator_never_stops_the_reply(caplog: pytest.LogCaptureFixture) -> None:
    with StandInChatwoot(token=TOKEN, token_kind="agent_bot") as bot:
        client = client_for(bot)
        with caplog.at_level(logging.WARNING), client.typing(128):
            client.send_message(128, "oi")
        assert len(bot.messages) == 1 and bot.typing == []
        assert caplog.text.count("unauthorized") == 2 and TOKEN not in caplog.text
