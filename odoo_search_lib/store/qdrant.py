"""The scale-out backend: a Qdrant server or cluster through ``qdrant-client``.

``url`` is a server or cluster URL (``https://qdrant.example:6333``) with an
optional API key; ``":memory:"`` runs qdrant-client's in-process local mode,
which exercises the same client code path in tests. Several Odoo workers and
nodes can share one server, unlike the embedded store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .._http import redact_url
from ..exceptions import ConfigError, StoreError, StoreUnavailableError
from ..sparse import SparseVector
from ..types import Filters, JSONValue
from .base import (
    OVERSAMPLING,
    PAYLOAD_SCHEMA,
    QUANTILE,
    SCROLL_PAGE,
    Condition,
    Point,
    ScoredPoint,
    SignalQuery,
    StoreBase,
    check_quantization,
    filter_conditions,
    point_id,
)

__all__ = ["QdrantStore"]


class QdrantStore(StoreBase):
    """Collections and aliases on a Qdrant server (or qdrant-client's local mode)."""

    backend = "qdrant"
    resolves_aliases = True

    def __init__(self, url: str, *, api_key: str = "", timeout: float = 10.0, quantization: str = "int8") -> None:
        try:
            from qdrant_client import QdrantClient, models
        except ImportError as exc:
            raise ConfigError("the qdrant backend needs qdrant-client: pip install 'odoo-search-lib[all]'") from exc
        check_quantization(quantization)
        self._models = models
        self.quantization = quantization
        self.url = redact_url(url) if url != ":memory:" else url  # for messages: never the credentials
        if url == ":memory:":
            if api_key:
                raise ConfigError("an API key makes no sense with the in-process ':memory:' store")
            self._client = QdrantClient(location=":memory:")
        elif url.startswith(("http://", "https://")):
            try:
                self._client = QdrantClient(
                    url=url, api_key=api_key or None, timeout=int(max(1, timeout)), check_compatibility=False
                )
            except Exception as exc:  # malformed URLs raise urllib3/httpx errors
                raise ConfigError(f"store.url {self.url} is not a usable Qdrant URL: {type(exc).__name__}") from None
        else:
            raise ConfigError(f"store.url must be an http(s) URL or ':memory:' (got {self.url!r})")

    def _call(self, action: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise StoreUnavailableError(f"Qdrant at {self.url} is unreachable ({action}): {exc}") from exc
        except Exception as exc:
            name = type(exc).__name__
            if name in ("ResponseHandlingException", "ConnectError", "ConnectTimeout", "ReadTimeout"):
                raise StoreUnavailableError(f"Qdrant at {self.url} is unreachable ({action}): {exc}") from exc
            raise StoreError(f"Qdrant failed to {action}: {exc}") from exc

    def create_collection(self, name: str, dense_dim: int) -> None:
        m = self._models
        if self.collection_exists(name):
            raise StoreError(f"collection {name!r} already exists")
        self._call(
            "create a collection",
            self._client.create_collection,
            collection_name=name,
            vectors_config={"dense": m.VectorParams(size=dense_dim, distance=m.Distance.COSINE)},
            quantization_config=(
                m.ScalarQuantization(
                    scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, quantile=QUANTILE, memory=m.Memory.PINNED)
                )
                if self.quantization == "int8"
                else None
            ),
            sparse_vectors_config={
                "bm25": m.SparseVectorParams(modifier=m.Modifier.IDF),
                "chars": m.SparseVectorParams(modifier=m.Modifier.IDF),
            },
        )
        types = {
            "keyword": m.PayloadSchemaType.KEYWORD,
            "integer": m.PayloadSchemaType.INTEGER,
            "float": m.PayloadSchemaType.FLOAT,
        }
        if self.url == ":memory:":
            return  # local mode filters by scanning; it has no payload indexes to build
        for field, kind in PAYLOAD_SCHEMA.items():
            self._call(
                "index a payload field",
                self._client.create_payload_index,
                collection_name=name,
                field_name=field,
                field_schema=types[kind],
            )

    def drop_collection(self, name: str) -> None:
        if self.collection_exists(name):
            self._call("drop a collection", self._client.delete_collection, collection_name=name)

    def collection_exists(self, name: str) -> bool:
        return bool(self._call("look up a collection", self._client.collection_exists, collection_name=name))

    def list_collections(self) -> list[str]:
        response = self._call("list collections", self._client.get_collections)
        return sorted(collection.name for collection in response.collections)

    def get_alias(self, alias: str) -> str | None:
        response = self._call("list aliases", self._client.get_aliases)
        for item in response.aliases:
            if item.alias_name == alias:
                return item.collection_name
        return None

    def set_alias(self, alias: str, collection: str) -> None:
        m = self._models
        if not self.collection_exists(collection):
            raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}")
        operations: list[Any] = []
        if self.get_alias(alias) is not None:
            operations.append(m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=alias)))
        operations.append(
            m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=collection, alias_name=alias))
        )
        # Qdrant applies the operations of one request atomically.
        self._call("switch an alias", self._client.update_collection_aliases, change_aliases_operations=operations)

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        if not points:
            return
        m = self._models
        structs = [
            m.PointStruct(
                id=point_id(point.doc_id),
                vector={
                    "dense": point.dense.tolist(),
                    "bm25": self._sparse(point.bm25),
                    "chars": self._sparse(point.chars),
                },
                payload={**point.payload, "doc_id": point.doc_id},
            )
            for point in points
        ]
        self._call("upsert points", self._client.upsert, collection_name=collection, points=structs, wait=True)

    def delete(self, collection: str, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            selector = self._models.PointIdsList(points=[point_id(doc_id) for doc_id in doc_ids])
            self._call(
                "delete points", self._client.delete, collection_name=collection, points_selector=selector, wait=True
            )

    def count(self, collection: str, filters: Filters | None = None) -> int:
        result = self._call(
            "count points",
            self._client.count,
            collection_name=collection,
            count_filter=self._filter(filter_conditions(filters)),
            exact=True,
        )
        return int(result.count)

    def _scroll_fields(self, collection: str, fields: list[str]) -> Iterator[list[Mapping[str, JSONValue]]]:
        offset = None
        while True:
            records, offset = self._call(
                "scroll points",
                self._client.scroll,
                collection_name=collection,
                limit=SCROLL_PAGE,
                offset=offset,
                with_payload=fields,
                with_vectors=False,
            )
            yield [record.payload or {} for record in records]
            if offset is None:
                return

    def payloads(
        self, collection: str, point_ids: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, Mapping[str, JSONValue]]:
        if not point_ids:
            return {}
        records = self._call(
            "retrieve points",
            self._client.retrieve,
            collection_name=collection,
            ids=list(point_ids),
            with_payload=True if fields is None else list(fields),
        )
        return {str(record.id): record.payload for record in records if record.payload}

    def query(
        self, collection: str, queries: Sequence[SignalQuery], filters: Filters | None = None
    ) -> list[list[ScoredPoint]]:
        m = self._models
        query_filter = self._filter(filter_conditions(filters))
        search_params = self._dense_search_params()
        requests = [
            m.QueryRequest(
                query=self._sparse(q.vector) if isinstance(q.vector, SparseVector) else q.vector.tolist(),
                using=q.using,
                limit=q.limit,
                filter=query_filter if q.filtered else None,
                with_payload=q.with_payload,
                params=search_params if q.using == "dense" else None,
            )
            for q in queries
        ]
        responses = self._call("query", self._client.query_batch_points, collection_name=collection, requests=requests)
        return [[ScoredPoint(str(p.id), p.score, p.payload or {}) for p in response.points] for response in responses]

    def _dense_search_params(self) -> Any:
        """Search the int8 copies with oversampling and re-score on the originals. A collection without
        quantization (made before it, or with store.quantization "none") ignores it; the in-process
        ":memory:" mode searches exactly and warns that it ignores search parameters: none for it."""
        if self.url == ":memory:":
            return None
        m = self._models
        return m.SearchParams(quantization=m.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING))

    def optimize(self, collection: str) -> None:
        """Nothing to do: a Qdrant server optimises in the background."""

    def close(self) -> None:
        self._client.close()

    def _sparse(self, vector: SparseVector) -> Any:
        return self._models.SparseVector(indices=list(vector.indices), values=list(vector.values))

    def _filter(self, conditions: list[Condition]) -> Any:
        m = self._models
        if not conditions:
            return None
        must: list[Any] = []
        for condition in conditions:
            if condition.any_of is not None:
                match = (
                    m.MatchValue(value=condition.any_of[0])
                    if len(condition.any_of) == 1
                    else m.MatchAny(any=list(condition.any_of))
                )
                must.append(m.FieldCondition(key=condition.key, match=match))
            else:
                must.append(m.FieldCondition(key=condition.key, range=m.Range(gte=condition.gte, lte=condition.lte)))
        return m.Filter(must=must)
