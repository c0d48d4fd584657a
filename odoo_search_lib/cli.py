"""``odoo-search``: index, search, evaluate and benchmark from a terminal.

Exit codes: 0 success, 1 a runtime failure (store, embedder), 2 bad input or
usage. With ``--json`` every command prints exactly one JSON object on
stdout, errors included (``{"error": {"code", "message"}}``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import _rules_cli
from ._version import __version__
from .config import SearchSettings, Settings, StoreSettings
from .documents import load_jsonl
from .evaluate import (
    BASELINES,
    average,
    by_type,
    load_qrels,
    load_queries,
    load_query_types,
    per_query,
    rank_bm25_ranker,
    substring_ranker,
)
from .exceptions import InvalidInputError, QueryError, SearchLibError
from .index import SearchIndex
from .search import METHODS, parse_filters

__all__ = ["main"]

DEMO_QUERIES = [
    ("camiseta preta de algodão", None),
    ("camizeta", None),
    ("tenis corida", None),
    ("fone bluetoth", None),
    ("presente para quem gosta de cozinhar", None),
    ("wireless earbuds", None),
    ("tênis", {"price_max": "300", "in_stock": "true"}),
]


class _Progress:
    """A tqdm bar on stderr when it is a terminal (or forced); silent otherwise."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit="doc", file=sys.stderr, leave=False)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _settings(args: argparse.Namespace, store_path: str | None, *, scratch: bool = False) -> Settings:
    """Settings from the environment and the command line.

    ``scratch`` (demo, eval) forces an embedded store at ``store_path`` whatever ``ODOO_SEARCH_STORE__*``
    says: those commands reindex and drop their collection, which must never be a live tenant's.
    """
    base = Settings.from_env()
    changes: dict[str, Any] = {}
    if scratch:
        assert store_path is not None
        base = base.replace(store=StoreSettings(backend="edge", path=store_path))
    if getattr(args, "tenant", None):
        changes["tenant"] = args.tenant
    if getattr(args, "language", None):
        changes["language"] = args.language
    if store_path is not None and base.store.backend == "edge":
        changes["store"] = base.store.__class__(**{**base.store.__dict__, "path": store_path})
    if getattr(args, "fusion", None):
        changes["search"] = base.search.replace(fusion=args.fusion)
    return Settings.from_dict(_as_dict(base.replace(**changes))) if changes else base


def _as_dict(settings: Settings) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, SearchSettings):
            # Only the weights set explicitly: the others follow the (possibly new) language.
            fields = {name: convert(getattr(value, name)) for name in value.__dataclass_fields__}
            fields["weights"] = {name: value.weights[name] for name in value.explicit_weights}
            del fields["explicit_weights"]
            return fields
        if hasattr(value, "__dataclass_fields__"):
            return {name: convert(getattr(value, name)) for name in value.__dataclass_fields__}
        return dict(value) if isinstance(value, dict) else value

    return convert(settings)


def _hit_row(hit: Any) -> dict[str, Any]:
    return {
        "id": hit.id,
        "name": hit.payload.get("name"),
        "score": round(hit.score, 6),
        "scores": {name: round(value, 4) for name, value in hit.scores.items()},
        "confidence": round(hit.confidence, 4),
        "category": hit.payload.get("category"),
        "price": hit.payload.get("price"),
        "in_stock": bool(hit.payload.get("in_stock")),
    }


def _print_hits(query: str, rows: list[dict[str, Any]], took_ms: float, out: Any) -> None:
    print(f'\n"{query}"  ({took_ms:.1f} ms)', file=out)
    if not rows:
        print("  (no results)", file=out)
    for rank, row in enumerate(rows, 1):
        price = f"R$ {row['price']:.2f}" if row["price"] is not None else "-"
        stock = "" if row["in_stock"] else "  [sem estoque]"
        signals = " ".join(f"{name}={value:.3f}" for name, value in row["scores"].items())
        print(f"  {rank:>2}. {row['name']}  ({row['category']}, {price}){stock}", file=out)
        print(f"      score {row['score']:.4f}  {signals}", file=out)


def _load(path: str, on_error: str, out: Any, quiet: bool) -> Any:
    report = load_jsonl(path, on_error=on_error)
    if not quiet:
        for error in report.errors:
            print(f"skipped {error}", file=sys.stderr)
        if report.duplicates:
            shown = ", ".join(report.duplicates[:10])
            print(f"{len(report.duplicates)} repeated id(s), the last record wins: {shown}", file=sys.stderr)
    if not report.documents:
        raise InvalidInputError(f"{path} holds no valid product", code="no_documents")
    return report


def cmd_demo(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    sample = resources.files("odoo_search_lib") / "data" / "sample_products.jsonl"
    with resources.as_file(sample) as path, tempfile.TemporaryDirectory(prefix="odoo-search-demo-") as tmp:
        report = _load(str(path), "stop", out, args.json)
        settings = _settings(args, tmp, scratch=True)
        with SearchIndex(settings) as index:
            progress = _Progress("indexing sample", not args.json and sys.stderr.isatty())
            index.reindex(report.documents, progress=progress, total=len(report.documents))
            progress.close()
            if not args.json:
                print(f"Indexed {len(report.documents)} sample products into an embedded store ({tmp}).", file=out)
            searches = []
            for query, filters in DEMO_QUERIES:
                result = index.search(query, limit=args.limit, filters=parse_filters(filters))
                rows = [_hit_row(hit) for hit in result.hits]
                searches.append(
                    {"query": query, "filters": filters or {}, "took_ms": round(result.took_ms, 2), "results": rows}
                )
                if not args.json:
                    label = query + (f"  filters {filters}" if filters else "")
                    _print_hits(label, rows, result.took_ms, out)
    return {"indexed": len(report.documents), "searches": searches}


def cmd_index(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    if args.kind == "rule":
        if args.refresh:
            raise InvalidInputError("--refresh is for products; rules are rebuilt", code="invalid_argument")
        progress = _Progress("indexing", not args.json and sys.stderr.isatty())
        return _rules_cli.cmd_index(args, out, _settings(args, args.store), progress)
    report = _load(args.file, args.on_error, out, args.json)
    refreshed = None
    with SearchIndex(_settings(args, args.store)) as index:
        progress = _Progress("indexing", not args.json and sys.stderr.isatty())
        if args.refresh:
            refreshed = index.refresh(report.documents, progress=progress, total=len(report.documents))
            collection = index.collection()
        else:
            collection = index.reindex(
                report.documents, progress=progress, total=len(report.documents), fresh=args.fresh
            )
        progress.close()
        count = index.count()
    result: dict[str, object] = {
        "indexed": count,
        "collection": collection,
        "skipped": [{"line": e.line, "code": e.code, "message": str(e)} for e in report.errors],
        "duplicates": report.duplicates,
    }
    if refreshed is not None:
        result.update(dataclasses.asdict(refreshed))
    if not args.json:
        changes = (
            f" ({refreshed.written} written, {refreshed.unchanged} unchanged, {refreshed.deleted} deleted)"
            if refreshed is not None and not refreshed.rebuilt
            else ""
        )
        print(
            f"Indexed {count} products into {args.store} ({collection}){changes}; "
            f"{len(report.errors)} line(s) skipped, {len(report.duplicates)} repeated id(s).",
            file=out,
        )
    return result


def _parse_filter_args(items: Sequence[str]) -> Any:
    """``key=value`` strings as filters; ``attributes`` takes a JSON object (``attributes={"Tamanho": [38, 39]}``)."""
    raw: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--filter expects key=value (got {item!r})", code="invalid_filter")
        raw[key.strip()] = value.strip()
    if isinstance(raw.get("attributes"), str):
        try:
            raw["attributes"] = json.loads(raw["attributes"])
        except ValueError:
            raise QueryError(
                '--filter attributes= expects a JSON object, e.g. {"Tamanho": [38, 39]}', code="invalid_filter"
            ) from None
    return parse_filters(raw)


def _min_confidence(text: str | None) -> float | None:
    """``--min-confidence`` as a number; the range is the library's to check (same error as the API's)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise QueryError(
            f"--min-confidence must be a number from 0 to 1 (got {text!r})", code="invalid_min_confidence"
        ) from None


def cmd_search(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    filters = _parse_filter_args(args.filter or [])
    if not Path(args.store).is_dir():
        raise InvalidInputError(f"no store at {args.store}: run 'odoo-search index' first", code="no_store")
    if args.kind == "rule":
        if filters is not None or args.min_confidence is not None:
            raise InvalidInputError(
                "--filter and --min-confidence are for products; rules take --type and --at", code="invalid_argument"
            )
        return _rules_cli.cmd_search(args, out, _settings(args, args.store))
    _product_only(args)
    with SearchIndex(_settings(args, args.store)) as index:
        result = index.search(
            args.query,
            limit=args.limit,
            method=args.method,
            filters=filters,
            min_confidence=_min_confidence(args.min_confidence),
        )
    rows = [_hit_row(hit) for hit in result.hits]
    understood = [item.as_dict() for item in result.understood]
    if not args.json:
        _print_hits(result.query, rows, result.took_ms, out)
        for item in result.understood:
            print(f"  understood: {item.kind} {item.value} ({item.text!r}, {item.applied})", file=out)
    return {
        "query": result.query,
        "method": result.method,
        "took_ms": round(result.took_ms, 2),
        "results": rows,
        "understood": understood,
    }


def _product_only(args: argparse.Namespace) -> None:
    """Refuse the rule options on a product command rather than ignoring them."""
    for option in ("at", "type", "rules"):
        if getattr(args, option, None):
            raise InvalidInputError(f"--{option} needs --kind rule", code="invalid_argument")
    if getattr(args, "include_inactive", False):
        raise InvalidInputError("--include-inactive needs --kind rule", code="invalid_argument")


def cmd_eval(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    if args.kind == "rule":
        progress = _Progress("indexing", not args.json and sys.stderr.isatty())
        return _rules_cli.cmd_eval(args, out, lambda path: _settings(args, path, scratch=True), progress)
    _product_only(args)
    if not args.products:
        raise InvalidInputError("eval needs --products FILE (or --kind rule --rules FILE)", code="invalid_argument")
    queries = load_queries(args.queries)
    types = load_query_types(args.queries)
    qrels = load_qrels(args.qrels)
    documents = _load(args.products, "stop", out, args.json).documents
    methods = list(METHODS) + list(BASELINES) if args.method == "all" else [args.method]
    runs: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="odoo-search-eval-") as tmp:
        index = None
        if any(method in METHODS for method in methods):
            index = SearchIndex(_settings(args, tmp, scratch=True))
            progress = _Progress("indexing", not args.json and sys.stderr.isatty())
            index.reindex(documents, progress=progress, total=len(documents))
            progress.close()
        try:
            for method in methods:
                if method == "substring":
                    ranker = substring_ranker(documents)
                elif method == "rank_bm25":
                    ranker = rank_bm25_ranker(documents)
                else:
                    assert index is not None

                    def ranker(text: str, method: str = method) -> list[str]:
                        return index.search(text, limit=10, method=method).ids()

                runs[method] = per_query(queries, qrels, ranker)
        finally:
            if index is not None:
                index.close()
    scores = {method: average(results) for method, results in runs.items()}
    labelled = sum(1 for qid in queries if qrels.get(qid))
    per_type = {method: by_type(results, types) for method, results in runs.items()}
    counts = Counter(types[qid] for qid in next(iter(runs.values())) if qid in types)
    grouped = {
        kind: {"queries": counts[kind], "methods": {method: per_type[method][kind] for method in runs}}
        for kind in sorted(counts)
    }
    if not args.json:
        print(f"{labelled} labelled queries, {len(documents)} products", file=out)
        _print_scores(scores, out)
        for kind, group in grouped.items():
            print(f"\n{kind} ({group['queries']} queries)", file=out)
            _print_scores(group["methods"], out)
    result: dict[str, object] = {"queries": labelled, "methods": scores}
    if grouped:
        result["by_type"] = grouped
    return result


def _print_scores(scores: dict[str, dict[str, float]], out: TextIO) -> None:
    names = ["ndcg@10", "recall@10", "mrr@10", "hit@10"]
    print(f"{'method':<12}" + "".join(f"{name:>11}" for name in names), file=out)
    for method, values in scores.items():
        print(f"{method:<12}" + "".join(f"{values[name]:>11.4f}" for name in names), file=out)


def cmd_bench(args: argparse.Namespace, out: TextIO) -> dict[str, object]:
    from .bench import run_bench

    if args.n < 1 or args.queries < 1:
        raise InvalidInputError("--n and --queries must be positive", code="invalid_argument")
    bars: dict[str, _Progress] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.setdefault(stage, _Progress(stage, not args.json and sys.stderr.isatty()))
        bar(done, total)

    result = run_bench(
        args.n, queries=args.queries, cache_dir=args.cache_dir, settings=_settings(args, None), progress=progress
    )
    for bar in bars.values():
        bar.close()
    if not args.json:
        print(f"{result['n']} products, {result['cpus']} CPUs, embedder {result['embedder']}", file=out)
        print(
            f"indexing: {result['index_per_s']:.0f} products/s (embed + encode + upsert; the median of "
            f"{len(result['index_rounds'])} rounds, {result['index_sample']} products in all), "
            f"{result['index_vs_single_thread']:.2f}x the embedder on one thread",
            file=out,
        )
        for method, values in result["query_ms"].items():
            print(f"query {method:<7} p50 {values['p50']:>6.2f} ms   p95 {values['p95']:>6.2f} ms", file=out)
        during = result["query_ms_during_build"]
        print(
            f"query hybrid during a build  p50 {during['hybrid']['p50']:.2f} ms   p95 {during['hybrid']['p95']:.2f} ms"
            f" (the build meanwhile: {during['build_per_s']:.0f} products/s)",
            file=out,
        )
        print(
            f"unchanged catalogue: rebuild {result['reindex_unchanged_per_s']:.0f}/s, fresh rebuild "
            f"{result['reindex_fresh_unchanged_per_s']:.0f}/s, "
            f"refresh in place {result['refresh_unchanged_per_s']:.0f}/s",
            file=out,
        )
        print(f"peak RSS: {result['peak_rss_mb']:.0f} MB", file=out)
    return result


class _UsageError(Exception):
    """A command-line usage error, raised instead of argparse's print-and-exit so ``--json`` can report it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="odoo-search", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object (machine output)")
    common.add_argument("--tenant", help="tenant (Odoo database) name; default from ODOO_SEARCH_TENANT or 'default'")
    common.add_argument("--language", choices=("pt", "en"), help="text analysis language (default pt)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common], help="index the bundled sample and show some searches")
    demo.add_argument("--limit", type=int, default=3, help="results per search (default 3)")
    demo.set_defaults(func=cmd_demo)

    index = sub.add_parser("index", parents=[common], help="(re)build the index of a JSON Lines product or rule file")
    index.add_argument("file", help="products (or rules with --kind rule), one JSON object per line")
    index.add_argument("--store", required=True, help="embedded store directory (created if missing)")
    index.add_argument(
        "--on-error",
        choices=("stop", "skip"),
        default="stop",
        help="on a bad line: stop before touching the store (default) or skip it",
    )
    rebuild = index.add_mutually_exclusive_group()
    rebuild.add_argument(
        "--refresh",
        action="store_true",
        help="update the live index in place: write new and changed products only, delete missing ones "
        "(default: rebuild into a new collection)",
    )
    rebuild.add_argument(
        "--fresh",
        action="store_true",
        help="rebuild from an empty collection: encode and index every product again (default: start from a "
        "copy of the live collection and write only what changed)",
    )
    _rules_cli.add_arguments(index, "index")
    index.set_defaults(func=cmd_index)

    search = sub.add_parser("search", parents=[common], help="search an index")
    search.add_argument("query")
    search.add_argument("--store", required=True, help="embedded store directory")
    search.add_argument("--limit", type=int, default=None, help="number of results (1-100, default 10)")
    search.add_argument("--method", choices=METHODS, default="hybrid")
    search.add_argument("--fusion", choices=("rrf", "dbsf", "weighted"), help="fusion for hybrid (default rrf)")
    search.add_argument(
        "--min-confidence",
        metavar="X",
        help="drop hits whose match confidence is below X (0-1; default search.min_confidence, 0 = keep all)",
    )
    search.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        help="category, price_min, price_max, in_stock, published, company_id, website_id, kind, "
        'attributes (a JSON object: attributes={"Tamanho": [38, 39]}) (repeatable)',
    )
    _rules_cli.add_arguments(search, "search")
    search.set_defaults(func=cmd_search)

    evaluate = sub.add_parser("eval", parents=[common], help="nDCG@10, recall@10, MRR@10, hit@10 per method")
    evaluate.add_argument("--products", help="JSON Lines product file (product eval)")
    evaluate.add_argument(
        "--queries", required=True, help="qid<TAB>text lines; a third column, the query type, adds a per-type report"
    )
    evaluate.add_argument("--qrels", required=True, help="TREC qrels: qid<TAB>0<TAB>product_id<TAB>grade")
    evaluate.add_argument("--method", choices=(*METHODS, *BASELINES, "all"), default="all")
    evaluate.add_argument("--fusion", choices=("rrf", "dbsf", "weighted"), help="fusion for hybrid (default rrf)")
    _rules_cli.add_arguments(evaluate, "eval")
    evaluate.set_defaults(func=cmd_eval)

    bench = sub.add_parser("bench", parents=[common], help="indexing throughput and query latency on synthetic data")
    bench.add_argument("--n", type=int, default=100_000, help="catalogue size (default 100000)")
    bench.add_argument("--queries", type=int, default=200, help="queries per method (default 200)")
    bench.add_argument("--cache-dir", help="where synthetic vectors are cached (default ~/.cache/odoo-search/bench)")
    bench.set_defaults(func=cmd_bench)

    from .assistant.cli import add_chat_commands

    add_chat_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        if "--json" in argv:
            print(json.dumps({"error": {"code": "usage_error", "message": str(exc)}}, ensure_ascii=False))
        else:
            parser.print_usage(sys.stderr)
            print(f"{exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    try:
        result = args.func(args, out)
    except SearchLibError as exc:
        status = 2 if isinstance(exc, InvalidInputError) else 1
        if args.json:
            print(json.dumps({"error": {"code": exc.code, "message": str(exc)}}, ensure_ascii=False), file=out)
        else:
            print(f"odoo-search: error: {exc}", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        print("odoo-search: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one JSON object and a non-zero exit, never a bare traceback
        if args.json:
            message = f"unexpected {type(exc).__name__}: {exc}"
            print(json.dumps({"error": {"code": "internal_error", "message": message}}), file=out)
        else:
            traceback.print_exc()
            print(f"odoo-search: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.json and result is not None:  # chat --conversations prints one object per line itself
        print(json.dumps(result, ensure_ascii=False), file=out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
