"""The ``--kind rule`` side of ``odoo-search index``, ``search`` and ``eval`` (business rules)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timezone
from typing import Any

from .evaluate import evaluate_run, load_qrels, load_queries
from .exceptions import InvalidInputError
from .rules import RULE_TYPES, RuleIndex, RuleLoadReport, load_rules, parse_moment, timezone_named
from .search import METHODS

__all__ = ["add_arguments", "cmd_eval", "cmd_index", "cmd_search"]

#: Cut-offs of the rule eval: the product eval's 10, plus what a chat answer shows (the top 3 to 5).
CUTOFFS = (10, 5, 3)
TOP = 5


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The rule options of ``command`` (``index``, ``search`` or ``eval``)."""
    parser.add_argument(
        "--kind", choices=("product", "rule"), default="product", help="document kind (default product)"
    )
    parser.add_argument(
        "--tz",
        default="UTC",
        help="time zone of rule dates and datetimes given without one, and of --at (IANA name, default UTC)",
    )
    if command in ("search", "eval"):
        parser.add_argument("--at", help="rules: the moment validity is judged at, ISO date or datetime (default now)")
    if command in ("search", "eval"):
        parser.add_argument(
            "--include-inactive", action="store_true", help="rules: also return expired and not yet valid rules"
        )
    if command == "search":
        parser.add_argument("--type", action="append", choices=RULE_TYPES, help="rules: keep this type (repeatable)")
    if command == "eval":
        parser.add_argument("--rules", help="rules: JSON Lines rule file (with --kind rule)")


def _moment(args: argparse.Namespace) -> datetime:
    if args.at is None:
        return datetime.now(timezone.utc)
    return parse_moment(args.at, timezone_named(args.tz))


def _load(path: str, args: argparse.Namespace, on_error: str) -> RuleLoadReport:
    report = load_rules(path, on_error=on_error, tz=timezone_named(args.tz))
    if not args.json:
        for error in report.errors:
            print(f"skipped {error}", file=sys.stderr)
        if report.duplicates:
            shown = ", ".join(report.duplicates[:10])
            print(f"{len(report.duplicates)} repeated id(s), the last record wins: {shown}", file=sys.stderr)
    if not report.rules:
        raise InvalidInputError(f"{path} holds no valid rule", code="no_documents")
    return report


def cmd_index(args: argparse.Namespace, out: Any, settings: Any, progress: Any) -> dict[str, Any]:
    report = _load(args.file, args, args.on_error)
    with RuleIndex(settings, tz=args.tz) as index:
        collection = index.reindex(report.rules, progress=progress, total=len(report.rules), fresh=args.fresh)
        progress.close()
        passages = index.count()
    if not args.json:
        print(
            f"Indexed {len(report.rules)} rules ({passages} passages) into {args.store} ({collection}); "
            f"{len(report.errors)} line(s) skipped, {len(report.duplicates)} repeated id(s).",
            file=out,
        )
    return {
        "indexed": len(report.rules),
        "passages": passages,
        "collection": collection,
        "skipped": [{"line": e.line, "code": e.code, "message": str(e)} for e in report.errors],
        "duplicates": report.duplicates,
    }


def cmd_search(args: argparse.Namespace, out: Any, settings: Any) -> dict[str, Any]:
    at = _moment(args)
    with RuleIndex(settings, tz=args.tz) as index:
        result = index.search(
            args.query,
            at=at,
            types=args.type,
            limit=args.limit,
            include_inactive=args.include_inactive,
            method=args.method,
        )
    rows = [hit.as_dict() for hit in result.hits]
    if not args.json:
        print(f'\n"{result.query}"  at {at.isoformat()}  ({result.took_ms:.1f} ms)', file=out)
        if not rows:
            print("  (no rules)", file=out)
        for rank, row in enumerate(rows, 1):
            status = "" if row["status"] == "active" else f"  [{row['status']}]"
            coupon = f"  cupom {row['coupon_code']}" if row["coupon_code"] else ""
            signals = " ".join(f"{name}={value:.3f}" for name, value in row["scores"].items())
            print(f"  {rank:>2}. [{row['type']}] {row['title']}  ({row['id']}){coupon}{status}", file=out)
            print(f"      {row['excerpt']}", file=out)
            validity = f"{row['valid_from'] or '-'} .. {row['valid_to'] or '-'}"
            print(f"      valid {validity}  score {row['score']:.4f}  {signals}", file=out)
    return {
        "query": result.query,
        "at": at.isoformat(),
        "method": args.method,
        "took_ms": round(result.took_ms, 2),
        "results": rows,
    }


def cmd_eval(args: argparse.Namespace, out: Any, settings_for: Any, progress: Any) -> dict[str, Any]:
    if not args.rules:
        raise InvalidInputError("--kind rule needs --rules FILE", code="invalid_argument")
    if args.method not in (*METHODS, "all"):
        raise InvalidInputError(f"--method {args.method} is for products only", code="invalid_argument")
    queries = load_queries(args.queries)
    qrels = load_qrels(args.qrels)
    rules = _load(args.rules, args, "stop").rules
    at = _moment(args)
    status = {rule.id: rule.status(at) for rule in rules}
    methods = list(METHODS) if args.method == "all" else [args.method]
    scores: dict[str, dict[str, float]] = {}
    # Expired or not yet valid rules among each method's top 5, judged from the rule file itself.
    inactive: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="odoo-search-eval-") as tmp:
        with RuleIndex(settings_for(tmp), tz=args.tz) as index:
            index.reindex(rules, progress=progress, total=len(rules))
            progress.close()
            for method in methods:
                inactive[method] = 0

                def ranker(text: str, method: str = method) -> list[str]:
                    found = index.search(text, at=at, limit=10, method=method, include_inactive=args.include_inactive)
                    ids = found.ids()
                    inactive[method] += sum(status.get(rule_id) != "active" for rule_id in ids[:TOP])
                    return ids

                scores[method] = evaluate_run(queries, qrels, ranker, cutoffs=CUTOFFS)
    labelled = sum(1 for qid in queries if qrels.get(qid))
    active = sum(value == "active" for value in status.values())
    if not args.json:
        names = ["ndcg@10", "recall@10", "mrr@10", "hit@10", "ndcg@5", "hit@3"]
        print(f"{labelled} labelled queries, {len(rules)} rules ({active} valid at {at.isoformat()})", file=out)
        print(f"{'method':<12}" + "".join(f"{name:>11}" for name in names) + f"{'inactive@5':>12}", file=out)
        for method, values in scores.items():
            row = "".join(f"{values[name]:>11.4f}" for name in names)
            print(f"{method:<12}{row}{inactive[method]:>12}", file=out)
    return {
        "queries": labelled,
        "at": at.isoformat(),
        "rules": len(rules),
        "active_rules": active,
        "methods": scores,
        "inactive_in_top5": inactive,
    }
