# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""JSON API: ``POST /api/v1/products/search`` and ``GET /api/v1/health``.

Authentication is an Odoo API key (``res.users.apikeys``, Preferences >
Account Security) sent as ``Authorization: Bearer <key>``. The route is
``auth="none"`` and checks the key itself with the same call Odoo's
``auth="bearer"`` uses, because ``auth="bearer"``:

- answers a missing or wrong key with werkzeug's HTML 401/403 pages, not the
  API's JSON error shape, and
- also accepts a browser session cookie, which a machine endpoint must not.

Every failure goes through :func:`_error_for` (one map from exceptions,
including the library's tree, to status codes) and comes back as
``{"error": {"code": ..., "message": ...}}``.
"""

import json
import logging
import re
import time

from odoo import SUPERUSER_ID, http
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import request

from odoo_search_lib import (
    ConfigError,
    EmbeddingError,
    IndexNotBuiltError,
    InvalidInputError,
    SearchLibError,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
)
from odoo_search_lib.search import METHODS, parse_filters

from ..rate_limit import limiter

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_CHARS = 1000
#: Failed authentications allowed per client address and minute (slows key guessing).
AUTH_FAILURES_PER_MINUTE = 30
_BODY_FIELDS = frozenset({"query", "limit", "method", "filters"})
_FILTER_FIELDS = frozenset({"category", "price_min", "price_max", "in_stock"})
_BEARER_RE = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def _error_for(exc):
    """``(status, code, message)`` for any exception: the one place the error contract lives.

    Messages of 5xx answers are generic: details (store paths, hosts) go to the log only.
    """
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, InvalidInputError):  # QueryError, DocumentError
        return 400, exc.code, str(exc)
    if isinstance(exc, IndexNotBuiltError):
        return 503, "index_not_built", "The product index is not built yet for this database."
    if isinstance(exc, StoreLockedError):
        return (
            503,
            "store_locked",
            ("The embedded search store serves one Odoo process only; configure a Qdrant URL for this server."),
        )
    if isinstance(exc, StoreUnavailableError):
        return 503, "store_unavailable", "The search store cannot be reached."
    if isinstance(exc, StoreError):
        return 503, "store_error", "The search store failed."
    if isinstance(exc, EmbeddingError):
        return 503, "embedding_unavailable", "The embedding model failed."
    if isinstance(exc, ConfigError):
        return 503, "not_configured", "Semantic search is not configured correctly on this server."
    if isinstance(exc, SearchLibError):
        return 503, exc.code, "Semantic search failed."
    if isinstance(exc, AccessDenied):
        return 401, "unauthorized", "Authentication failed."
    if isinstance(exc, AccessError):
        return 403, "forbidden", "This API key's user may not read products."
    if isinstance(exc, UserError):
        return 400, "bad_request", str(exc)
    return 500, "internal_error", "Internal error."


def _json(data, status=200, headers=None):
    headers = [("Cache-Control", "no-store"), *(headers or [])]
    return request.make_json_response(data, status=status, headers=headers)


def _error_response(exc):
    status, code, message = _error_for(exc)
    if status == 500:
        _logger.error("Product search API: unexpected error", exc_info=exc)
    elif status >= 500:
        _logger.warning("Product search API: %s", exc)
    headers = exc.headers if isinstance(exc, ApiError) else []
    return _json({"error": {"code": code, "message": message}}, status=status, headers=headers)


class SemanticProductSearchController(http.Controller):
    @http.route(
        "/api/v1/products/search",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def products_search(self, **_params):
        started = time.perf_counter()
        try:
            uid = self._authenticate()
            self._check_rate_limit(f"{request.db}:{uid}")
            body = self._read_json_body()
            query, limit, method, filters = self._parse_search_body(body)
            results = self._search(query, limit, method, filters)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            return _error_response(exc)
        return _json({"results": results, "took_ms": round((time.perf_counter() - started) * 1000, 2)})

    @http.route("/api/v1/health", type="http", auth="none", methods=["GET"], csrf=False, save_session=False)
    def health(self, **_params):
        """Liveness plus whether this database's product index is built; no data, no database list."""
        service = request.env(user=SUPERUSER_ID)["semantic.search.service"]
        try:
            status = service.index_status()
        except (SearchLibError, UserError) as exc:
            _status, code, _message = _error_for(exc)
            _logger.warning("Health check: search store not usable: %s", exc)
            return _json({"status": "degraded", "index_built": False, "error": {"code": code}}, status=503)
        return _json({"status": "ok", "index_built": status["built"]})

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def _authenticate(self):
        """The uid of the API key in ``Authorization: Bearer``; switches the request to that user."""
        header = request.httprequest.headers.get("Authorization", "")
        match = _BEARER_RE.match(header)
        if not match:
            raise ApiError(401, "missing_api_key", 'Send an Odoo API key as "Authorization: Bearer <key>".')
        address = request.httprequest.remote_addr or "unknown"
        failures_key = f"{request.db}:auth-failures:{address}"
        uid = request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=match.group(1))
        if not uid:
            # Only failures are limited: a guesser behind the same address (a proxy) must not lock
            # out valid keys. Behind a reverse proxy, set proxy_mode so the address is the client's.
            if not limiter.allow(failures_key, AUTH_FAILURES_PER_MINUTE):
                retry_after = str(limiter.retry_after(failures_key, AUTH_FAILURES_PER_MINUTE))
                raise ApiError(429, "rate_limited", "Too many failed authentications.", [("Retry-After", retry_after)])
            raise ApiError(401, "invalid_api_key", "The API key is invalid, expired or revoked.")
        request.update_env(user=uid)
        # names are answered in the key user's language, not the anonymous request's
        request.update_context(lang=request.env.user.lang or "en_US")
        return uid

    def _check_rate_limit(self, key):
        rate = request.env["semantic.search.service"].sudo()._get_param_int("api_rate_limit")
        if not limiter.allow(key, rate):
            retry_after = str(limiter.retry_after(key, rate))
            raise ApiError(429, "rate_limited", "Too many requests for this API key.", [("Retry-After", retry_after)])

    def _read_json_body(self):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        raw = httprequest.get_data(cache=False)
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes.")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "bad_json", "The request body is not valid UTF-8 JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The request body must be a JSON object.")
        return body

    def _parse_search_body(self, body):
        unknown = sorted(set(body) - _BODY_FIELDS)
        if unknown:
            raise ApiError(
                400, "unknown_field", f"Unknown field {unknown[0]!r} (known: {', '.join(sorted(_BODY_FIELDS))})."
            )
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "invalid_query", '"query" must be a non-empty string.')
        if len(query) > MAX_QUERY_CHARS:
            raise ApiError(400, "query_too_long", f'"query" is longer than {MAX_QUERY_CHARS} characters.')
        limit = body.get("limit", 10)
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ApiError(400, "invalid_limit", '"limit" must be an integer.')
        method = body.get("method", "hybrid")
        if method not in METHODS:
            raise ApiError(400, "invalid_method", f'"method" must be one of {", ".join(METHODS)}.')
        raw_filters = body.get("filters") or {}
        if not isinstance(raw_filters, dict):
            raise ApiError(400, "invalid_filter", '"filters" must be an object.')
        unknown = sorted(set(raw_filters) - _FILTER_FIELDS)
        if unknown:
            raise ApiError(
                400,
                "unknown_filter",
                f"Unknown filter {unknown[0]!r} (known: {', '.join(sorted(_FILTER_FIELDS))}).",
            )
        if isinstance(raw_filters.get("category"), str):
            # Odoo shows "All / Saleable"; the index stores "All > Saleable"
            raw_filters = dict(raw_filters, category=raw_filters["category"].replace(" / ", " > "))
        filters = parse_filters(raw_filters)  # QueryError -> 400 with the field named
        return query, limit, method, filters

    def _search(self, query, limit, method, filters):
        env = request.env
        service = env["semantic.search.service"]
        max_limit = service.sudo()._get_param_int("search_max_limit", minimum=1)
        limit = max(1, min(limit, max_limit))
        companies = env.companies  # every company of the key's user
        # ask for a little more than needed: hits the user may not read are dropped below
        result = service.search_products(
            query,
            limit=min(max_limit, limit * 2),
            method=method,
            filters=filters,
            company_ids=companies.ids,
        )
        ids = [service._parse_product_doc_id(hit.id) for hit in result.hits]
        readable = env["product.template"].search([("id", "in", [res_id for res_id in ids if res_id])])
        by_id = {record.id: record for record in readable}
        results = []
        for hit, res_id in zip(result.hits, ids, strict=True):
            record = by_id.get(res_id)
            if record is None:
                continue  # archived, deleted, another company's, or hidden by a record rule
            item = self._result_item(service, record, hit)
            if filters is not None and filters.in_stock is not None and item["in_stock"] != filters.in_stock:
                continue  # stock moved since indexing: the live level decides
            results.append(item)
            if len(results) >= limit:
                break
        return results

    def _result_item(self, service, record, hit):
        # price, currency and stock are read live from Odoo, never from the index
        live = record.sudo()
        return {
            "id": record.id,
            "name": record.name,
            "score": round(hit.score, 6),
            "scores": {signal: round(score, 6) for signal, score in hit.scores.items()},
            "list_price": record.list_price,
            "currency": live.currency_id.name or None,
            "in_stock": service._product_in_stock(live),
            "category": service._category_path(live.categ_id) or None,
        }
