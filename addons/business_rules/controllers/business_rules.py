# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""``POST /api/v1/business-rules/sync`` and ``POST /api/v1/business-rules/search``.

Same authentication (an Odoo API key of the ``semantic_search`` scope as Bearer token, made
with *Semantic Search > Generate API Key*), rate limit, body rules and error contract as the
product search API (``semantic_product_description``'s ``controllers/api.py``). Sync needs
Sales / Administrator; search Sales / User and returns only the rules the key's user may
read, in its companies. Other methods get the JSON 405 of that contract, with ``Allow: POST``.
"""

import time

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request

from odoo.addons.semantic_product_description.controllers.api import (
    API_KEY_SCOPE,
    ApiError,
    JsonApi,
    error_response,
    json_response,
    method_not_allowed,
)

from odoo_search_lib import StoreLockedError, StoreUnavailableError

_SEARCH_FIELDS = frozenset({"query", "limit", "types", "at", "include_inactive"})
#: Keys of the semantic search API (scope ``semantic_search``); who may do what is Sales' groups.
SEARCH_GROUP = "sales_team.group_sale_salesman"
SYNC_GROUP = "sales_team.group_sale_manager"


class BusinessRulesController(http.Controller, JsonApi):
    @http.route(
        "/api/v1/business-rules/sync",
        type="http",
        auth="none",
        methods=None,  # every method: Odoo answers a ``methods`` mismatch with an HTML page
        csrf=False,
        save_session=False,
        readonly=False,  # auth="none" routes are read-only by default in Odoo 18; a sync writes
    )
    def business_rules_sync(self, **_params):
        if request.httprequest.method != "POST":
            return method_not_allowed(["POST"])
        try:
            uid = self._authenticate(scope=API_KEY_SCOPE, group=SYNC_GROUP)
            self._check_rate_limit(f"{request.db}:{uid}")
            body = self._read_json_body()
            if body:
                raise ApiError(400, "unknown_field", "The sync takes no parameters: send {}.")
            request.env["business.rule"].check_access("write")
            service = request.env["semantic.search.service"].sudo()
            try:
                counts = service.sync_all_rules()
            except (StoreUnavailableError, StoreLockedError):
                # nothing is lost: the same sync runs as a job when the store is back
                request.env.cr.rollback()
                job = service.with_delay(description="Semantic search: sync all business rules")._job_sync_all_rules()
                return json_response(
                    {
                        "queued": True,
                        "job": job.uuid,
                        "error": {"code": "store_unavailable", "message": "The search store cannot be reached."},
                    },
                    status=202,
                )
        except AccessError:
            return error_response(ApiError(403, "forbidden", "This API key's user may not edit business rules."))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            return error_response(exc)
        return json_response(counts)

    @http.route("/api/v1/business-rules/search", type="http", auth="none", methods=None, csrf=False, save_session=False)
    def business_rules_search(self, **_params):
        if request.httprequest.method != "POST":
            return method_not_allowed(["POST"])
        started = time.perf_counter()
        try:
            uid = self._authenticate(scope=API_KEY_SCOPE, group=SEARCH_GROUP)
            self._check_rate_limit(f"{request.db}:{uid}")
            body = self._read_json_body()
            results = self._search_rules(body)
        except AccessError:
            return error_response(ApiError(403, "forbidden", "This API key's user may not read business rules."))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            return error_response(exc)
        return json_response({"results": results, "took_ms": round((time.perf_counter() - started) * 1000, 2)})

    def _search_rules(self, body):
        query, limit = self._query_and_limit(body, _SEARCH_FIELDS, default_limit=5)
        types = body.get("types")
        if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
            raise ApiError(400, "invalid_types", '"types" must be a list of rule types.')
        at = body.get("at")
        if at is not None and not isinstance(at, str):
            raise ApiError(400, "invalid_at", '"at" must be an ISO date or datetime string.')
        include_inactive = body.get("include_inactive", False)
        if not isinstance(include_inactive, bool):
            raise ApiError(400, "invalid_include_inactive", '"include_inactive" must be true or false.')
        env = request.env
        env["business.rule"].check_access("read")
        service = env["semantic.search.service"]
        max_limit = service.sudo()._get_param_int("search_max_limit", minimum=1)
        limit = max(1, min(limit, max_limit))
        result = service.sudo().search_rules(
            query,
            at=at,
            types=types,
            limit=min(max_limit, limit * 2),
            include_inactive=include_inactive,
            company_ids=env.companies.ids,
        )
        ids = [service._parse_rule_doc_id(hit.id) for hit in result.hits]
        readable = env["business.rule"].search([("id", "in", [res_id for res_id in ids if res_id])])
        by_id = {rule.id: rule for rule in readable}
        results = []
        for hit, res_id in zip(result.hits, ids, strict=True):
            rule = by_id.get(res_id)
            if rule is None:
                continue  # archived since, another company's, or hidden by a record rule
            results.append(
                {
                    "id": rule.id,
                    "title": rule.name,
                    "type": rule.rule_type,
                    "excerpt": hit.excerpt,
                    "valid_from": hit.valid_from,
                    "valid_to": hit.valid_to,
                    "status": hit.status,
                    "coupon_code": rule.coupon_code or None,
                    "score": round(hit.score, 6),
                    "scores": {signal: round(score, 6) for signal, score in hit.scores.items()},
                }
            )
            if len(results) >= limit:
                break
        return results
