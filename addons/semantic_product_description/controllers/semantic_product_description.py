# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""JSON API: ``POST /api/v1/products/search`` and ``GET /api/v1/health``.

Authentication, rate limits, body parsing and the error contract are shared
with the other semantic routes: see :mod:`.api`.
"""

import logging
import time

from odoo import SUPERUSER_ID, http
from odoo.exceptions import UserError
from odoo.http import request

from odoo_search_lib import SearchLibError
from odoo_search_lib.search import METHODS, parse_filters

from .api import MAX_QUERY_CHARS, ApiError, JsonApi, error_for, error_response, json_response

_logger = logging.getLogger(__name__)

_BODY_FIELDS = frozenset({"query", "limit", "method", "filters"})
_FILTER_FIELDS = frozenset({"category", "price_min", "price_max", "in_stock"})


class SemanticProductSearchController(http.Controller, JsonApi):
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
            return error_response(exc)
        return json_response({"results": results, "took_ms": round((time.perf_counter() - started) * 1000, 2)})

    @http.route("/api/v1/health", type="http", auth="none", methods=["GET"], csrf=False, save_session=False)
    def health(self, **_params):
        """Liveness plus whether this database's product index is built; no data, no database list."""
        service = request.env(user=SUPERUSER_ID)["semantic.search.service"]
        try:
            status = service.index_status()
        except (SearchLibError, UserError) as exc:
            _status, code, _message = error_for(exc)
            _logger.warning("Health check: search store not usable: %s", exc)
            return json_response({"status": "degraded", "index_built": False, "error": {"code": code}}, status=503)
        return json_response({"status": "ok", "index_built": status["built"]})

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

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
