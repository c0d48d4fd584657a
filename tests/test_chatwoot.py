"""Chatwoot deliveries: parsing, signatures, the reply rules, bursts, dedupe keys and reply splitting."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from odoo_search_lib import ChatwootPayloadError, ChatwootVerificationError, ConfigError, InvalidInputError
from odoo_search_lib.chatwoot import (
    MAX_BODY_BYTES,
    MAX_BURST_CHARS,
    MAX_BURST_MESSAGES,
    MAX_CONTENT_CHARS,
    BurstMessage,
    ConversationEvent,
    ConversationState,
    IgnoredEvent,
    MessageEvent,
    advance,
    channel_limit,
    dedupe_keys,
    delivery_id,
    parse_event,
    plan_burst,
    should_reply,
    sign_delivery,
    split_reply,
    verify_signature,
)
from odoo_search_lib.chatwoot.testing import conversation_payload, delivery_headers, message_payload

FIXTURES = Path(__file__).parent / "fixtures"
INCOMING = (FIXTURES / "chatwoot_message_created_incoming_whatsapp.json").read_bytes()
OUTGOING_BOT = (FIXTURES / "chatwoot_message_created_outgoing_agent_bot.json").read_bytes()
SECRET = "test-secret"
NOW = 1_762_179_605


def encode(payload: object) -> bytes:
    return json.dumps(payload).encode()


def message(**kwargs: object) -> MessageEvent:
    event = parse_event(encode(message_payload(**kwargs)))  # type: ignore[arg-type]
    assert isinstance(event, MessageEvent)
    return event


def conversation(**kwargs: object) -> ConversationEvent:
    event = parse_event(encode(conversation_payload(**kwargs)))  # type: ignore[arg-type]
    assert isinstance(event, ConversationEvent)
    return event


# --------------------------------------------------------------------------- parsing


def test_incoming_fixture_parses_into_a_typed_event() -> None:
    event = parse_event(INCOMING, account_id=1)
    assert isinstance(event, MessageEvent)
    assert (event.event, event.id, event.account_id, event.message_type) == ("message_created", 9876, 1, "incoming")
    assert event.content == "Hola, ¿tienen la silla Ergo en stock?"
    assert (event.conversation.id, event.conversation.status) == (128, "pending")
    assert event.conversation.channel == "Channel::Whatsapp"
    assert event.conversation.contact_name == "Maria Silva"
    assert event.sender is not None and event.sender.type == "contact"
    assert not event.private and not event.is_ours and not event.content_truncated


def test_outgoing_fixture_is_recognised_as_ours() -> None:
    event = parse_event(OUTGOING_BOT, account_id=1)
    assert isinstance(event, MessageEvent)
    assert event.is_ours and event.message_type == "outgoing"
    assert event.sender is not None and event.sender.type == "agent_bot"
    assert event.content_attributes["odoo_reply_to"] == 9876


def test_events_are_frozen() -> None:
    event = parse_event(INCOMING)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.content = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.content_attributes["odoo_bot"] = True  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "status", "previous"),
    [
        ("conversation_status_changed", "open", "pending"),
        ("conversation_resolved", "resolved", None),
        ("conversation_opened", "open", None),
    ],
)
def test_conversation_events_parse(name: str, status: str, previous: str | None) -> None:
    event = conversation(event=name, status=status, previous_status=previous, conversation_id=77)
    assert (event.event, event.status, event.conversation.id, event.account_id) == (name, status, 77, 1)
    assert event.previous_status == previous
    assert isinstance(event.updated_at, float)


@pytest.mark.parametrize("name", ["conversation_created", "contact_updated", "conversation_typing_on", "x" * 5000])
def test_unknown_events_are_ignored_not_errors(name: str) -> None:
    event = parse_event(encode({"event": name, "account": {"id": 1}}), account_id=1)
    assert isinstance(event, IgnoredEvent)
    assert len(event.event) <= 500 and event.account_id == 1


def test_payload_of_another_account_is_refused() -> None:
    with pytest.raises(ChatwootVerificationError) as caught:
        parse_event(encode(message_payload(message_id=5, account_id=2)), account_id=1)
    assert caught.value.code == "wrong_account"
    with pytest.raises(ChatwootVerificationError):
        parse_event(
            encode(conversation_payload(event="conversation_opened", status="open", account_id=2)), account_id=1
        )


def _without(payload: dict, *path: str) -> dict:
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return payload


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "bad_json"),
        (b"not json", "bad_json"),
        (b"\xff\xfe{}", "not_utf8"),
        (b"[1, 2]", "bad_payload"),
        (b'{"event": 7}', "bad_payload"),
        (b'{"event": "message_created", "id": NaN}', "bad_json"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b'{"event": "x", "a": ' + b'{"a": ' * 40 + b"1" + b"}" * 41, "too_deep"),
        (b'{"event": "message_created", "pad": "' + b"a" * MAX_BODY_BYTES + b'"}', "too_large"),
        (encode(_without(message_payload(message_id=1), "id")), "bad_payload"),
        (
            encode(_without(_without(message_payload(message_id=1), "account"), "conversation", "messages")),
            "bad_payload",
        ),
        (encode(_without(message_payload(message_id=1), "conversation")), "bad_payload"),
        (encode(_without(message_payload(message_id=1), "message_type")), "bad_payload"),
        (encode(_without(message_payload(message_id=1), "conversation", "status")), "bad_payload"),
        (encode({**message_payload(message_id=1), "private": "false"}), "bad_payload"),
        (encode({**message_payload(message_id=1), "id": True}), "bad_payload"),
        (encode({**message_payload(message_id=1), "id": -4}), "bad_payload"),
        (encode({**message_payload(message_id=1), "id": 2**70}), "bad_payload"),
        (encode(_without(conversation_payload(event="conversation_opened", status="open"), "status")), "bad_payload"),
    ],
)
def test_malformed_payloads_raise_coded_errors(body: bytes, code: str) -> None:
    with pytest.raises(ChatwootPayloadError) as caught:
        parse_event(body, account_id=1)
    assert caught.value.code == code
    assert isinstance(caught.value, InvalidInputError)


def test_strings_are_capped() -> None:
    payload = message_payload(message_id=3, content="palavra " * 10_000)
    payload["sender"]["name"] = "N" * 100_000
    payload["attachments"] = [{"id": i, "file_type": "image", "data_url": "u" * 3000} for i in range(100)]
    event = parse_event(encode(payload))
    assert isinstance(event, MessageEvent)
    assert len(event.content) == MAX_CONTENT_CHARS and event.content_truncated
    assert event.sender is not None and len(event.sender.name) == 500
    assert len(event.attachments) == 20 and all(len(a.data_url) <= 2000 for a in event.attachments)


def test_attachments_and_transcripts_are_read() -> None:
    payload = message_payload(message_id=4, content="")
    payload["attachments"] = [{"id": 1, "file_type": "audio", "data_url": "https://x/a.ogg", "transcribed_text": "oi"}]
    event = parse_event(encode(payload))
    assert isinstance(event, MessageEvent)
    assert [(a.file_type, a.transcribed_text) for a in event.attachments] == [("audio", "oi")]


# --------------------------------------------------------------------------- signatures


def test_protocol_test_vector() -> None:
    body = b'{"event":"message_created","id":9876}'
    expected = "sha256=e548d0593d9329eed70074c02ab0d1ccf97f6b7ab77110b53652e5bb8f4678a5"
    assert sign_delivery("test-secret", body, 1762179605) == expected
    headers = {"X-Chatwoot-Signature": expected, "X-Chatwoot-Timestamp": "1762179605"}
    assert verify_signature("test-secret", body, headers, now=1762179605) == 1762179605


def test_signed_delivery_verifies_with_any_header_case() -> None:
    headers = delivery_headers(INCOMING, secret=SECRET, timestamp=NOW)
    lowered = {key.lower(): value for key, value in headers.items()}
    assert verify_signature(SECRET, INCOMING, lowered, now=NOW + 299) == NOW
    assert verify_signature(SECRET, INCOMING, headers, now=NOW - 299) == NOW


def _signed(**changes: str) -> dict[str, str]:
    headers = delivery_headers(INCOMING, secret=SECRET, timestamp=NOW)
    headers.update(changes)
    return {key: value for key, value in headers.items() if value != "<drop>"}


@pytest.mark.parametrize(
    ("headers", "body", "now", "code"),
    [
        (
            _signed(**{"X-Chatwoot-Signature": "<drop>", "X-Chatwoot-Timestamp": "<drop>"}),
            INCOMING,
            NOW,
            "missing_signature",
        ),
        (_signed(**{"X-Chatwoot-Timestamp": "<drop>"}), INCOMING, NOW, "missing_timestamp"),
        (_signed(**{"X-Chatwoot-Signature": "sha256=" + "0" * 64}), INCOMING, NOW, "bad_signature"),
        (_signed(**{"X-Chatwoot-Signature": "e548d0593d9329eed70074c02ab0d1cc"}), INCOMING, NOW, "bad_signature"),
        (_signed(**{"X-Chatwoot-Signature": "sha256=ĳĳ"}), INCOMING, NOW, "bad_signature"),
        (_signed(), INCOMING + b" ", NOW, "bad_signature"),
        (_signed(**{"X-Chatwoot-Timestamp": str(NOW + 1)}), INCOMING, NOW, "bad_signature"),
        (_signed(), INCOMING, NOW + 301, "stale_timestamp"),
        (_signed(), INCOMING, NOW - 301, "stale_timestamp"),
        (_signed(**{"X-Chatwoot-Timestamp": "1e9"}), INCOMING, NOW, "bad_timestamp"),
        (_signed(**{"X-Chatwoot-Timestamp": "-5"}), INCOMING, NOW, "bad_timestamp"),
        (_signed(**{"X-Chatwoot-Timestamp": "9" * 5000}), INCOMING, NOW, "bad_timestamp"),
        (_signed(**{"X-Chatwoot-Timestamp": "١٢٣"}), INCOMING, NOW, "bad_timestamp"),
    ],
)
def test_hostile_signatures_are_refused(headers: dict[str, str], body: bytes, now: int, code: str) -> None:
    with pytest.raises(ChatwootVerificationError) as caught:
        verify_signature(SECRET, body, headers, now=now)
    assert caught.value.code == code


def test_a_signature_with_another_secret_is_refused() -> None:
    headers = delivery_headers(INCOMING, secret="other-secret", timestamp=NOW)
    with pytest.raises(ChatwootVerificationError) as caught:
        verify_signature(SECRET, INCOMING, headers, now=NOW)
    assert caught.value.code == "bad_signature"


def test_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        verify_signature("", INCOMING, _signed(), now=NOW)


def test_delivery_id_header() -> None:
    assert delivery_id({"x-chatwoot-delivery": " 6f1c5b1e-0c1d-4d5e-8f00-1a2b3c4d5e6f "}) == (
        "6f1c5b1e-0c1d-4d5e-8f00-1a2b3c4d5e6f"
    )
    assert delivery_id({}) is None and delivery_id({"X-Chatwoot-Delivery": ""}) is None
    for hostile in ("a" * 201, "id\x00", "é"):
        with pytest.raises(ChatwootVerificationError) as caught:
            delivery_id({"X-Chatwoot-Delivery": hostile})
        assert caught.value.code == "bad_delivery_id"


# --------------------------------------------------------------------------- when to reply


def run(events: list, state: ConversationState | None = None) -> tuple[ConversationState, list[str]]:
    state = state or ConversationState()
    reasons = []
    for event in events:
        state = advance(state, event)
        reasons.append(should_reply(event, state).reason)
    return state, reasons


def test_an_incoming_public_message_in_a_pending_conversation_is_answered() -> None:
    event = parse_event(INCOMING)
    state = advance(ConversationState(), event)
    assert should_reply(event, state).reply
    assert state.last_message_id == 9876


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"event": "message_updated"}, "message_updated"),
        ({"message_type": "outgoing", "sender_type": "agent_bot", "ours": True}, "not_incoming"),
        ({"message_type": "template", "sender_type": "agent_bot"}, "not_incoming"),
        ({"private": True}, "private"),
        ({"status": "open"}, "not_pending"),
        ({"status": "snoozed"}, "not_pending"),
        ({"ours": True}, "not_incoming"),
    ],
)
def test_messages_that_are_not_answered(kwargs: dict, reason: str) -> None:
    _, reasons = run([message(message_id=10, **kwargs)])
    assert reasons == [reason]


def test_conversation_events_are_never_answered() -> None:
    _, reasons = run([conversation(event="conversation_opened", status="open"), parse_event(b'{"event": "x"}')])
    assert reasons == ["not_a_message", "not_a_message"]


def test_our_own_replies_and_notes_change_nothing() -> None:
    ours = message(message_id=11, message_type="outgoing", sender_type="user", ours=True)
    note = message(message_id=12, message_type="outgoing", sender_type="user", private=True, ours=True)
    state, _ = run([ours, note])
    assert not state.paused
    assert should_reply(message(message_id=13), advance(state, message(message_id=13))).reply


def test_a_human_reply_pauses_the_bot_until_resolved() -> None:
    state, reasons = run(
        [
            message(message_id=20),
            message(message_id=21, message_type="outgoing", sender_type="user"),
            message(message_id=22),
            message(message_id=23, status="pending"),
        ]
    )
    assert reasons == ["reply", "not_incoming", "bot_paused", "bot_paused"]
    assert (state.paused, state.pause_reason) == (True, "agent_replied")
    state, reasons = run(
        [conversation(event="conversation_resolved", status="resolved"), message(message_id=24)], state
    )
    assert reasons == ["not_a_message", "reply"]
    assert not state.paused and state.history_before == 23


def test_opening_pauses_and_handing_back_resumes() -> None:
    state, reasons = run(
        [
            conversation(event="conversation_status_changed", status="open", previous_status="pending"),
            message(message_id=30, status="open"),
            conversation(event="conversation_status_changed", status="pending", previous_status="open"),
            message(message_id=31),
        ]
    )
    assert reasons == ["not_a_message", "not_pending", "not_a_message", "reply"]
    assert not state.paused
    assert state.history_before == 30, "what was said while a person had it is not the bot's to read"


def test_a_hand_back_after_an_agent_spoke_starts_clean() -> None:
    state, reasons = run(
        [
            message(message_id=70),
            message(message_id=71, message_type="outgoing", sender_type="user"),
            message(message_id=72, status="open"),
            conversation(event="conversation_status_changed", status="pending", previous_status="open"),
            # a late delivery of the agent's message must not pause the bot again
            message(message_id=71, message_type="outgoing", sender_type="user"),
            message(message_id=73),
        ]
    )
    assert reasons == ["reply", "not_incoming", "not_pending", "not_a_message", "not_incoming", "reply"]
    assert (state.paused, state.history_before, state.last_message_id) == (False, 72, 73)


def test_a_resolve_delivered_twice_does_not_bury_a_newer_message() -> None:
    resolved = conversation(event="conversation_resolved", status="resolved")
    state, _ = run([message(message_id=90), resolved])
    # the customer writes again while the conversation is still resolved, then the resolve arrives again
    state, reasons = run([message(message_id=91, status="resolved"), resolved], state)
    assert state.history_before == 90, "message 91 is not history"
    assert should_reply(message(message_id=92), advance(state, message(message_id=92))).reply


def test_a_status_change_without_a_hand_back_keeps_the_history() -> None:
    state, _ = run(
        [
            message(message_id=80),
            conversation(event="conversation_status_changed", status="snoozed", previous_status="pending"),
            conversation(event="conversation_status_changed", status="pending", previous_status="snoozed"),
        ]
    )
    assert (state.paused, state.history_before) == (False, 0)


def test_agent_bot_sees_hand_back_in_the_next_message() -> None:
    # Agent bots get conversation_opened but no status_changed: a later message shows the conversation pending.
    state, reasons = run(
        [
            conversation(event="conversation_opened", status="open"),
            message(message_id=40, status="open"),
            message(message_id=41),
        ]
    )
    assert reasons == ["not_a_message", "not_pending", "reply"]


def test_a_reopened_conversation_does_not_replay_old_history() -> None:
    state, _ = run(
        [
            message(message_id=50),
            message(message_id=51, message_type="outgoing", sender_type="user"),
            conversation(event="conversation_resolved", status="resolved"),
        ]
    )
    # A late or replayed delivery of the old agent message and the old customer message after reopening.
    state, reasons = run(
        [
            message(message_id=51, message_type="outgoing", sender_type="user"),
            message(message_id=50),
            message(message_id=52),
        ],
        state,
    )
    assert reasons == ["not_incoming", "old_message", "reply"]
    assert not state.paused and state.history_before == 51


def test_message_updated_changes_nothing() -> None:
    state, _ = run([message(message_id=60, event="message_updated", message_type="outgoing", sender_type="user")])
    assert state == ConversationState()


# --------------------------------------------------------------------------- dedupe


def test_dedupe_keys() -> None:
    event = parse_event(INCOMING)
    assert dedupe_keys(event, "abc") == ("delivery:abc", "message_created:1:9876")
    assert dedupe_keys(event) == ("message_created:1:9876",)
    updated = message(message_id=9876, event="message_updated")
    assert set(dedupe_keys(updated)).isdisjoint(dedupe_keys(event))
    opened = conversation(event="conversation_opened", status="open")
    assert dedupe_keys(opened)[0].startswith("conversation_opened:1:128:")
    assert dedupe_keys(parse_event(b'{"event": "x"}')) == ()


def test_status_events_without_a_timestamp_are_not_taken_for_each_other() -> None:
    """Two changes of one conversation with no ``updated_at`` must not share a key (the second would be lost)."""
    opened = conversation_payload(event="conversation_status_changed", status="open")
    back = conversation_payload(event="conversation_status_changed", status="pending")
    for payload in (opened, back):
        del payload["updated_at"]
    first, second = (dedupe_keys(parse_event(encode(payload))) for payload in (opened, back))
    assert first == second == ()
    assert dedupe_keys(parse_event(encode(back)), "d-9") == ("delivery:d-9",)


def test_a_replayed_or_doubled_delivery_is_seen_as_a_duplicate() -> None:
    seen: set[str] = set()

    def fresh(body: bytes, headers: dict[str, str]) -> bool:
        keys = set(dedupe_keys(parse_event(body), delivery_id(headers)))
        duplicate = bool(keys & seen)
        seen.update(keys)
        return not duplicate

    first = delivery_headers(INCOMING, secret=SECRET, timestamp=NOW, delivery_id="d-1")
    assert fresh(INCOMING, first)
    assert not fresh(INCOMING, first)  # Chatwoot's retry: same delivery id
    assert not fresh(INCOMING, delivery_headers(INCOMING, delivery_id="d-2"))  # same message, other webhook
    assert fresh(encode(message_payload(message_id=9877)), delivery_headers(b"", delivery_id="d-3"))


# --------------------------------------------------------------------------- bursts


def test_a_burst_waits_for_quiet_then_becomes_one_request() -> None:
    pending = [BurstMessage(1, 100.0, "oi"), BurstMessage(2, 100.5, "tem cadeira"), BurstMessage(3, 101.0, "ergo?")]
    waiting = plan_burst(pending, now=102.0)
    assert not waiting.ready and waiting.wait == pytest.approx(2.0)
    ready = plan_burst(pending, now=104.0)
    assert ready.ready and ready.wait == 0.0
    assert (ready.message_ids, ready.text, ready.dropped, ready.last_id) == ((1, 2, 3), "oi\ntem cadeira\nergo?", 0, 3)
    assert ready.superseded_by(4) and not ready.superseded_by(3)
    assert plan_burst(pending, now=101.5, window=0.5).ready


def test_two_hundred_messages_in_a_second_make_one_capped_request() -> None:
    pending = [BurstMessage(i, 1000.0 + i / 200, f"mensagem {i} " + "x" * 300) for i in range(1, 201)]
    assert not plan_burst(pending, now=1001.0).ready
    plan = plan_burst(list(reversed(pending)), now=1004.0)
    assert plan.ready
    assert plan.message_ids == tuple(range(201 - MAX_BURST_MESSAGES, 201))
    assert plan.dropped == 200 - MAX_BURST_MESSAGES
    assert len(plan.text) <= MAX_BURST_CHARS + MAX_BURST_MESSAGES
    assert plan.text.endswith("mensagem 200 " + "x" * 300)


def test_burst_edge_cases() -> None:
    empty = plan_burst([], now=0.0)
    assert not empty.ready and empty.message_ids == () and empty.superseded_by(1)
    with pytest.raises(InvalidInputError):
        plan_burst([BurstMessage(1, 0.0, "a")], now=1.0, window=-1)
    with pytest.raises(InvalidInputError):
        plan_burst([BurstMessage(1, 0.0, "a")], now=1.0, window=float("nan"))


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("channel", "limit"),
    [
        ("Channel::Whatsapp", 4096),
        ("Channel::Instagram", 1000),
        ("Channel::FacebookPage", 2000),
        ("Channel::WebWidget", 10_000),
        ("Channel::Unknown", 1000),
        ("", 1000),
    ],
)
def test_replies_fit_the_channel_and_never_cut_words(channel: str, limit: int) -> None:
    text = " ".join(f"A cadeira modelo {i} custa R$ {i},90 e tem garantia de dois anos!" for i in range(400))
    parts = split_reply(text, channel)
    assert channel_limit(channel) == limit
    assert len(parts) > 1 and all(0 < len(part) <= limit for part in parts)
    assert " ".join(parts).split() == text.split()
    assert all(part.endswith("!") for part in parts)  # cut between sentences


def test_short_reply_stays_whole_and_paragraphs_survive() -> None:
    text = "Olá! Temos sim.\n\nA cadeira custa R$ 899,00."
    assert split_reply(text, "Channel::Whatsapp") == [text]
    assert split_reply("  \n ", "Channel::Whatsapp") == []


def test_a_sentence_longer_than_the_limit_is_cut_between_words() -> None:
    text = "palavra " * 50
    parts = split_reply(text, limit=30)
    assert all(len(part) <= 30 for part in parts)
    assert all(word == "palavra" for part in parts for word in part.split())


def test_only_a_word_longer_than_the_limit_is_cut_inside() -> None:
    url = "https://loja.example/" + "a" * 50
    parts = split_reply(f"Veja {url} agora.", limit=20)
    assert all(len(part) <= 20 for part in parts)
    assert "".join(parts).replace(" ", "") == f"Veja{url}agora."
    with pytest.raises(InvalidInputError):
        split_reply("x", limit=0)


def test_text_is_storable_whatever_the_json_escapes() -> None:
    body = encode(message_payload(message_id=8)).replace(
        b'"Oi, tem a cadeira Ergo?"', b'"\\ud800oi\\u0000 \\ud83d\\ude00"'
    )
    event = parse_event(body)
    assert isinstance(event, MessageEvent)
    assert event.content == "\ufffdoi \U0001f600"
    event.content.encode("utf-8")  # what PostgreSQL and every UTF-8 writer need
