"""Relevance evaluation: graded labels, nDCG@10 and friends, and two baselines.

Queries are ``qid<TAB>text`` lines, optionally ``qid<TAB>text<TAB>type`` where ``type``
(``synonym``, ``use_case``, ...) groups the queries for a per-type report; labels (qrels) are TREC lines
``qid<TAB>0<TAB>doc_id<TAB>grade`` with grade 2 = exactly what was asked,
1 = partially relevant. Metrics, averaged over queries, at cut-off 10:

- ``ndcg@10``: gain ``2^grade - 1``, discount ``log2(rank + 1)``, ideal from the labels;
- ``recall@10``: labelled (grade >= 1) documents found in the top 10, over all labelled;
- ``mrr@10``: 1 / rank of the first labelled document;
- ``hit@10``: share of queries with a grade-2 document in the top 10.

Baselines, what a shop would otherwise have:

- ``substring``: the query as a case-insensitive substring of the product name,
  as Odoo's ``name ilike`` search finds it (ordered by name);
- ``rank_bm25``: the ``rank-bm25`` package's ``BM25Okapi`` over lower-cased word
  tokens of the whole product text, the usual first try in Python.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence

from .documents import attribute_values
from .exceptions import InvalidInputError
from .types import Document

__all__ = [
    "BASELINES",
    "Qrels",
    "average",
    "by_type",
    "evaluate_run",
    "load_qrels",
    "load_queries",
    "load_query_types",
    "metrics_for",
    "per_query",
    "rank_bm25_ranker",
    "substring_ranker",
]

CUTOFF = 10
BASELINES = ("substring", "rank_bm25")
Qrels = Mapping[str, Mapping[str, int]]
Ranker = Callable[[str], list[str]]


def _read_lines(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [(number, line.rstrip("\n")) for number, line in enumerate(handle, 1) if line.strip()]
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not valid UTF-8 (byte {exc.start})", code="not_utf8") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}", code="unreadable_file") from None


_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _parse_queries(path: str | os.PathLike[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Texts and types of a queries file; types are empty for a two-column file.

    A third column is a type; a file gives every query one or none (a missing type on
    some lines is a mistake worth reporting, not a group of its own).
    """
    queries: dict[str, str] = {}
    types: dict[str, str] = {}
    untyped: list[int] = []
    for number, line in _read_lines(path):
        columns = line.split("\t")
        qid, text = columns[0].strip(), columns[1].strip() if len(columns) > 1 else ""
        if len(columns) > 3 or not qid or not text:
            raise InvalidInputError(f"{path}:{number}: expected 'qid<TAB>query text[<TAB>type]'", code="bad_queries")
        if len(columns) == 3:
            kind = columns[2].strip()
            if not _TYPE.fullmatch(kind):
                raise InvalidInputError(
                    f"{path}:{number}: the query type must be lower-case letters, digits or '_' "
                    f"(up to 40, starting with a letter), got {kind!r}",
                    code="bad_query_type",
                )
            types[qid] = kind
        else:
            untyped.append(number)
        queries[qid] = text
    if not queries:
        raise InvalidInputError(f"{path} holds no queries", code="bad_queries")
    if types and untyped:
        raise InvalidInputError(
            f"{path}:{untyped[0]}: no query type, while other lines have one", code="bad_query_type"
        )
    return queries, types


def load_queries(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read ``qid<TAB>text`` or ``qid<TAB>text<TAB>type`` lines: qid -> text."""
    return _parse_queries(path)[0]


def load_query_types(path: str | os.PathLike[str]) -> dict[str, str]:
    """The third column of a queries file: qid -> type (empty when the file has two columns)."""
    return _parse_queries(path)[1]


def load_qrels(path: str | os.PathLike[str]) -> dict[str, dict[str, int]]:
    """Read TREC qrels lines ``qid 0 doc_id grade`` (tab or space separated)."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _read_lines(path):
        parts = line.split()
        if len(parts) != 4 or not parts[3].lstrip("-").isdigit():
            raise InvalidInputError(f"{path}:{number}: expected 'qid<TAB>0<TAB>doc_id<TAB>grade'", code="bad_qrels")
        qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def metrics_for(ranking: Sequence[str], labels: Mapping[str, int], cutoff: int = CUTOFF) -> dict[str, float]:
    """nDCG, recall, MRR and hit at ``cutoff`` for one query."""
    top = list(ranking[:cutoff])
    gains = [2 ** labels.get(doc_id, 0) - 1 for doc_id in top]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
    ideal = sorted((2**grade - 1 for grade in labels.values() if grade > 0), reverse=True)[:cutoff]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    relevant = {doc_id for doc_id, grade in labels.items() if grade > 0}
    first = next((rank for rank, doc_id in enumerate(top) if doc_id in relevant), None)
    return {
        f"ndcg@{cutoff}": dcg / idcg if idcg else 0.0,
        f"recall@{cutoff}": len(relevant.intersection(top)) / len(relevant) if relevant else 0.0,
        f"mrr@{cutoff}": 1.0 / (first + 1) if first is not None else 0.0,
        f"hit@{cutoff}": float(any(labels.get(doc_id, 0) >= 2 for doc_id in top)),
    }


def per_query(
    queries: Mapping[str, str], qrels: Qrels, ranker: Ranker, *, cutoffs: Sequence[int] = (CUTOFF,)
) -> dict[str, dict[str, float]]:
    """The metrics of ``ranker`` on every labelled query, at each of ``cutoffs``: qid -> metrics."""
    labelled = [qid for qid in queries if qrels.get(qid)]
    if not labelled:
        raise InvalidInputError("no query has labels in the qrels file", code="bad_qrels")
    results: dict[str, dict[str, float]] = {}
    for qid in labelled:
        ranking = ranker(queries[qid])
        results[qid] = {}
        for cutoff in cutoffs:
            results[qid].update(metrics_for(ranking, qrels[qid], cutoff))
    return results


def average(results: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric over the queries of ``results`` (from :func:`per_query`), rounded to 4 places."""
    totals: dict[str, float] = {}
    for values in results.values():
        for name, value in values.items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: round(value / len(results), 4) for name, value in totals.items()}


def by_type(results: Mapping[str, Mapping[str, float]], types: Mapping[str, str]) -> dict[str, dict[str, float]]:
    """:func:`average` per query type, types in alphabetical order; queries without a type are left out."""
    groups: dict[str, dict[str, Mapping[str, float]]] = {}
    for qid, values in results.items():
        if qid in types:
            groups.setdefault(types[qid], {})[qid] = values
    return {kind: average(groups[kind]) for kind in sorted(groups)}


def evaluate_run(
    queries: Mapping[str, str], qrels: Qrels, ranker: Ranker, *, cutoffs: Sequence[int] = (CUTOFF,)
) -> dict[str, float]:
    """Average the metrics of ``ranker`` over every labelled query, at each of ``cutoffs``."""
    return average(per_query(queries, qrels, ranker, cutoffs=cutoffs))


def substring_ranker(documents: Sequence[Document]) -> Ranker:
    """What ``name ilike '%query%'`` finds, ordered by name."""
    names = sorted((doc.name.casefold(), doc.id) for doc in documents)

    def rank(query: str) -> list[str]:
        needle = query.casefold()
        return [doc_id for name, doc_id in names if needle in name][:CUTOFF]

    return rank


_WORD = re.compile(r"\w+")


def _plain_tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def rank_bm25_ranker(documents: Sequence[Document]) -> Ranker:
    """``rank_bm25.BM25Okapi`` over lower-cased word tokens of name, category, attributes, tags, description."""
    try:
        from rank_bm25 import BM25Okapi
    except ImportError as exc:
        raise InvalidInputError("the rank_bm25 baseline needs the rank-bm25 package (pip install rank-bm25)") from exc
    ids = [doc.id for doc in documents]
    corpus = [
        _plain_tokens(" ".join([doc.name, doc.category, *attribute_values(doc), *doc.tags, doc.description]))
        for doc in documents
    ]
    model = BM25Okapi(corpus)

    def rank(query: str) -> list[str]:
        scores = model.get_scores(_plain_tokens(query))
        order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
        return [ids[i] for i in order[:CUTOFF] if scores[i] > 0]

    return rank
