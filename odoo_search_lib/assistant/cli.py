"""``odoo-search chat`` and ``odoo-search eval-chat``: the assistant from a terminal."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Sequence
from importlib import resources
from typing import Any, Protocol

from ..config import Settings
from ..documents import load_jsonl
from ..exceptions import InvalidInputError
from . import SalesAssistant
from .adapters import FileShop, load_rules
from .evaluate import evaluate_conversations, load_conversations, parse_conversation
from .offline import AssistantSettings
from .ports import Rule
from .types import Conversation, Message

__all__ = ["SubcommandAdder", "add_chat_commands"]

SAMPLE_TODAY = "2026-12-01"  # the day the bundled rules and conversations are written for


class SubcommandAdder(Protocol):
    """What ``ArgumentParser.add_subparsers()`` returns, as far as :func:`add_chat_commands` uses it."""

    def add_parser(
        self, name: str, *, parents: Sequence[argparse.ArgumentParser] = ..., help: str | None = ...
    ) -> argparse.ArgumentParser: ...


def _sample(name: str) -> str:
    return str(resources.files("odoo_search_lib") / "data" / name)


def _today(value: str | None) -> dt.date:
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--today must be YYYY-MM-DD (got {value!r})", code="invalid_argument") from None


def _shop(args: argparse.Namespace) -> tuple[Settings, FileShop, list[Rule]]:
    settings = Settings.from_env()
    if args.tenant:
        settings = settings.replace(tenant=args.tenant)
    report = load_jsonl(args.products)
    if not report.documents:
        raise InvalidInputError(f"{args.products} holds no valid product", code="no_documents")
    rules = load_rules(args.rules) if args.rules else []
    shop = FileShop(report.documents, rules, settings)
    return settings, shop, shop.rules.rules


def _assistant(args: argparse.Namespace, settings: Settings, shop: FileShop) -> SalesAssistant:
    llm = settings.llm
    changes = {
        key: value
        for key, value in (("base_url", args.llm_base_url), ("model", args.llm_model), ("timeout", args.llm_timeout))
        if value
    }
    if changes:
        llm = dataclasses.replace(llm, **changes)
        llm.validate()
    options = AssistantSettings(language=args.language or settings.language, channel=args.channel)
    return SalesAssistant(shop.catalog, shop.rules, options, mode=args.mode, llm=llm, max_llm_calls=args.max_llm_calls)


def cmd_chat(args: argparse.Namespace, out: Any) -> dict[str, Any] | None:
    today = _today(args.today)
    settings, shop, _ = _shop(args)
    with shop:
        assistant = _assistant(args, settings, shop)
        if args.conversations:
            with open(args.conversations, "rb") as handle:
                for number, raw in enumerate(handle, 1):
                    if raw.strip():
                        print(json.dumps(_answer_line(assistant, raw, number, today), ensure_ascii=False), file=out)
                        out.flush()
            return None
        _interactive(assistant, today, out)
    return None


def _answer_line(assistant: SalesAssistant, raw: bytes, number: int, today: dt.date) -> dict[str, Any]:
    """One line in, one JSON object out: a bad line gets an error object, the others go on."""
    try:
        item = parse_conversation(json.loads(raw), line=number)
    except ValueError as exc:  # JSON errors and InvalidInputError alike
        code = getattr(exc, "code", "bad_conversation")
        return {"id": None, "error": {"code": code, "message": f"line {number}: {exc}"}}
    reply = assistant.reply(item.conversation, at=item.today or today)
    return {"id": item.id, **reply.to_dict()}


def _interactive(assistant: SalesAssistant, today: dt.date, out: Any) -> None:
    print("Type a customer message (an empty line or Ctrl-D ends).", file=out)
    history: list[Message] = []
    for line in sys.stdin:
        text = line.rstrip("\n")
        if not text.strip():
            break
        history.append(Message("customer", text))
        reply = assistant.reply(Conversation(tuple(history)), at=today)
        for part in reply.parts:
            print(f"< {part}", file=out)
            history.append(Message("assistant", part))
        cited = ", ".join(f"{c.type} {c.id}" for c in reply.citations) or "-"
        print(f"  [citations: {cited}; language {reply.language}]", file=out)
        if reply.handoff:
            print(f"  [handoff: {reply.reason}; {reply.summary or ''}]", file=out)


def cmd_eval_chat(args: argparse.Namespace, out: Any) -> dict[str, Any]:
    today = _today(args.today)
    conversations = load_conversations(args.conversations)
    settings, shop, rules = _shop(args)
    with shop:
        assistant = _assistant(args, settings, shop)
        result = evaluate_conversations(
            lambda conversation, day: assistant.reply(conversation, at=day), conversations, shop.catalog, rules, today
        )
    if not args.json:
        print(f"{result['conversations']} conversations, mode {args.mode}", file=out)
        for key in (
            "citation_recall",
            "grounding_errors",
            "handoff_precision",
            "handoff_recall",
            "expired_promotions_offered",
            "language_accuracy",
        ):
            print(f"{key:<28}{result[key]}", file=out)
        print(f"{'injections_refused':<28}{result['injections_refused']}/{result['injections']}", file=out)
        latency = result["latency_ms"]
        print(f"{'latency_ms':<28}p50 {latency['p50']}  p95 {latency['p95']}", file=out)
        for failure in result["failures"]:
            print(f"  {failure['id']}: {'; '.join(failure['problems'])}", file=sys.stderr)
    return {**result, "mode": args.mode}


def _common_chat(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    parser.add_argument(
        "--products",
        default=_sample("sample_products.jsonl") if defaults else None,
        required=not defaults,
        help="products file (the import format)",
    )
    parser.add_argument(
        "--rules",
        default=_sample("sample_rules.jsonl") if defaults else None,
        help="business rules file, one JSON object per line",
    )
    parser.add_argument(
        "--today",
        default=SAMPLE_TODAY if defaults else None,
        help="the day rules are evaluated at, YYYY-MM-DD (default: today)",
    )
    parser.add_argument("--mode", choices=("offline", "llm"), default="offline")
    parser.add_argument("--channel", help="length limit of this channel (whatsapp, instagram, facebook, web)")
    parser.add_argument("--llm-base-url", help="OpenAI-compatible API base URL (or ODOO_SEARCH_LLM__BASE_URL)")
    parser.add_argument("--llm-model", help="model name (or ODOO_SEARCH_LLM__MODEL); key from ODOO_SEARCH_LLM__API_KEY")
    parser.add_argument("--llm-timeout", type=float, help="seconds per LLM call (default 30)")
    parser.add_argument("--max-llm-calls", type=int, default=4, help="LLM calls per reply at most (default 4)")


def add_chat_commands(sub: SubcommandAdder, common: argparse.ArgumentParser) -> None:
    chat = sub.add_parser("chat", parents=[common], help="talk to the sales assistant, or answer a conversations file")
    _common_chat(chat, defaults=False)
    chat.add_argument("--conversations", help='JSON Lines {"id", "messages": [...]}; prints one JSON object per line')
    chat.set_defaults(func=cmd_chat)
    evaluate = sub.add_parser("eval-chat", parents=[common], help="the assistant against a labelled conversation set")
    _common_chat(evaluate, defaults=True)
    evaluate.add_argument("--conversations", default=_sample("sample_conversations.jsonl"))
    evaluate.set_defaults(func=cmd_eval_chat)
