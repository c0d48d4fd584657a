# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.semantic_product_description.rate_limit import limiter

from .common import BusinessRulesTestMixin

SYNC_URL = "/api/v1/business-rules/sync"
SEARCH_URL = "/api/v1/business-rules/search"


@tagged("post_install", "-at_install")
class TestBusinessRulesRoutes(BusinessRulesTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_business_rules()
        cls.company_a = cls.env["res.company"].create({"name": "Loja A"})
        cls.company_b = cls.env["res.company"].create({"name": "Loja B"})

        def key_for(login, groups):
            user = new_test_user(
                cls.env, login=login, groups=groups, company_id=cls.company_a.id, company_ids=[cls.company_a.id]
            )
            return cls.env["res.users.apikeys"].with_user(user).sudo()._generate("semantic_search", login, None)

        cls.manager_key = key_for("br_manager", "base.group_user,sales_team.group_sale_manager")
        cls.salesman_key = key_for("br_salesman", "base.group_user,sales_team.group_sale_salesman")
        cls.plain_key = key_for("br_plain", "base.group_user")
        cls.free_shipping = cls._rule(
            "Frete grátis acima de R$ 299",
            "<p>Frete grátis para compras acima de R$ 299 nas regiões Sul e Sudeste.</p>",
            "delivery",
            company_id=cls.company_a.id,
        )
        cls.other_company = cls._rule(
            "Frete grátis acima de R$ 99", "Frete grátis acima de R$ 99.", "delivery", company_id=cls.company_b.id
        )
        cls.expired = cls._rule(
            "Frete grátis na Black Friday",
            "Frete grátis em qualquer compra durante a Black Friday.",
            "promotion",
            valid_from=cls.past,
            valid_to=cls.yesterday,
            coupon_code="BLACKFRETE",
            company_id=False,
        )
        cls._run_jobs()

    def setUp(self):
        super().setUp()
        limiter.reset()

    def _post(self, url, body, key=None, raw=None, headers=None):
        all_headers = {"Content-Type": "application/json"}
        if key is not False:
            all_headers["Authorization"] = f"Bearer {key or self.salesman_key}"
        all_headers.update(headers or {})
        return self.url_open(url, data=raw if raw is not None else json.dumps(body), headers=all_headers)

    def _assert_error(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        self.assertEqual(response.json()["error"]["code"], code)

    # search

    def test_search_answers_valid_rules_of_the_users_companies(self):
        response = self._post(SEARCH_URL, {"query": "tem frete gratis?", "limit": 5})
        self.assertEqual(response.status_code, 200, response.text)
        results = response.json()["results"]
        ids = [item["id"] for item in results]
        self.assertEqual(ids[0], self.free_shipping.id)
        self.assertNotIn(self.other_company.id, ids)
        self.assertNotIn(self.expired.id, ids)
        first = results[0]
        self.assertEqual(first["type"], "delivery")
        self.assertEqual(first["status"], "active")
        self.assertIn("299", first["excerpt"])
        self.assertEqual(set(first["scores"]), {"dense", "bm25", "chars"})
        self.assertIn("valid_from", first)

    def test_search_at_a_moment_and_inactive_rules(self):
        at = self.past.isoformat()
        response = self._post(SEARCH_URL, {"query": "frete gratis black friday", "at": at, "limit": 5})
        self.assertIn(self.expired.id, [item["id"] for item in response.json()["results"]])
        response = self._post(SEARCH_URL, {"query": "frete gratis black friday", "include_inactive": True})
        item = next(item for item in response.json()["results"] if item["id"] == self.expired.id)
        self.assertEqual((item["status"], item["coupon_code"]), ("expired", "BLACKFRETE"))

    def test_search_bad_input(self):
        self._assert_error(self._post(SEARCH_URL, {"query": ""}), 400, "invalid_query")
        self._assert_error(self._post(SEARCH_URL, {"query": "x" * 2000}), 400, "query_too_long")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "types": "delivery"}), 400, "invalid_types")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "types": ["nope"]}), 400, "invalid_filter")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "at": "ontem"}), 400, "invalid_at")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "at": 5}), 400, "invalid_at")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "limit": "5"}), 400, "invalid_limit")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete", "sql": "drop"}), 400, "unknown_field")
        self._assert_error(self._post(SEARCH_URL, None, raw=b"\xff{not json"), 400, "bad_json")
        self._assert_error(self._post(SEARCH_URL, None, raw=json.dumps(["frete"])), 400, "bad_request")
        self._assert_error(self._post(SEARCH_URL, None, raw=b"{" + b" " * 70_000 + b"}"), 413, "body_too_large")

    def test_search_authentication(self):
        self._assert_error(self._post(SEARCH_URL, {"query": "frete"}, key=False), 401, "missing_api_key")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete"}, key="nope"), 401, "invalid_api_key")
        self._assert_error(self._post(SEARCH_URL, {"query": "frete"}, key=self.plain_key), 403, "forbidden")
        # a global (XML-RPC) key of a Sales user is not a key of this API
        user = self.env["res.users"].search([("login", "=", "br_salesman")])
        global_key = self.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "global", None)
        self._assert_error(self._post(SEARCH_URL, {"query": "frete"}, key=global_key), 401, "invalid_api_key")

    # sync

    def test_sync_is_idempotent_and_counts(self):
        response = self._post(SYNC_URL, {}, key=self.manager_key)
        self.assertEqual(response.status_code, 200, response.text)
        first = response.json()
        self.assertEqual(set(first), {"indexed", "removed", "took_ms"})
        self.assertGreaterEqual(first["indexed"], 3)
        second = self._post(SYNC_URL, {}, key=self.manager_key).json()
        self.assertEqual((second["indexed"], second["removed"]), (first["indexed"], 0))

    def test_sync_needs_a_manager(self):
        self._assert_error(self._post(SYNC_URL, {}, key=self.salesman_key), 403, "forbidden")
        self._assert_error(self._post(SYNC_URL, {}, key=False), 401, "missing_api_key")
        self._assert_error(self._post(SYNC_URL, {"all": True}, key=self.manager_key), 400, "unknown_field")

    def test_sync_while_the_store_is_down_is_queued(self):
        self._set_params(store_mode="qdrant", qdrant_url="http://127.0.0.1:9")
        with mute_logger("odoo.addons.semantic_product_description.controllers.api"):
            response = self._post(SYNC_URL, {}, key=self.manager_key)
        self.assertEqual(response.status_code, 202, response.text)
        data = response.json()
        self.assertTrue(data["queued"])
        self.assertEqual(data["error"]["code"], "store_unavailable")
        job = self._semantic_jobs(method_name="_job_sync_all_rules")
        self.assertEqual(job.uuid, data["job"])
        self._set_params(store_mode="edge")
        self._run_jobs()
        self.assertEqual(job.state, "done")

    # both routes

    def test_wrong_method(self):
        # what a sync would store again: this rule's index state, or a job when the store is down
        self.env["semantic.index.state"]._forget("business.rule", [self.free_shipping.id])
        jobs = self.env["queue.job"].search_count([])
        for url, body in ((SYNC_URL, {}), (SEARCH_URL, {"query": "frete"})):
            for method in ("GET", "PUT", "DELETE"):
                response = self.opener.request(
                    method,
                    self.base_url() + url,
                    data=json.dumps(body),
                    headers={"Authorization": f"Bearer {self.manager_key}", "Content-Type": "application/json"},
                    timeout=30,
                )
                self._assert_error(response, 405, "method_not_allowed")
                self.assertEqual(response.headers["Allow"], "POST")
        self.assertNotIn(self.free_shipping.id, self.env["semantic.search.service"]._indexed_rule_ids())
        self.assertEqual(self.env["queue.job"].search_count([]), jobs)
