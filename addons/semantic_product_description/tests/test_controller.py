# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..rate_limit import limiter
from .common import SemanticSearchTestMixin, free_port

SEARCH_URL = "/api/v1/products/search"


@tagged("post_install", "-at_install")
class TestProductSearchRoute(SemanticSearchTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()
        cls.company_a = cls.env["res.company"].create({"name": "Shop A"})
        cls.company_b = cls.env["res.company"].create({"name": "Shop B"})
        cls.api_user = new_test_user(
            cls.env,
            login="spd_api",
            groups="base.group_user",
            company_id=cls.company_a.id,
            company_ids=[cls.company_a.id],
        )
        cls.api_key = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate(None, "search tests", None)
        cls.product_a = cls._create_product("Pelican Toaster", company_id=cls.company_a.id, list_price=120.0)
        cls.product_b = cls._create_product("Pelican Toaster", company_id=cls.company_b.id)
        cls.shared = cls._create_product("Pelican Toaster Deluxe", list_price=300.0)
        cls.archived = cls._create_product("Pelican Toaster Old", company_id=cls.company_a.id)
        cls._run_jobs()
        # archived behind the sync jobs' back: still in the index, the route must hide it anyway
        cls.archived.with_context(semantic_search_no_enqueue=True).active = False

    def setUp(self):
        super().setUp()
        limiter.reset()

    def _post(self, body, key=None, raw=None, headers=None):
        all_headers = {"Content-Type": "application/json"}
        if key is not False:
            all_headers["Authorization"] = f"Bearer {key or self.api_key}"
        all_headers.update(headers or {})
        data = raw if raw is not None else json.dumps(body)
        return self.url_open(SEARCH_URL, data=data, headers=all_headers)

    def _assert_error(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        self.assertEqual(response.json()["error"]["code"], code)

    def test_search_returns_readable_products_only(self):
        response = self._post({"query": "pelican toaster", "limit": 10})
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        ids = [item["id"] for item in data["results"]]
        self.assertIn(self.product_a.id, ids)
        self.assertIn(self.shared.id, ids)
        self.assertNotIn(self.product_b.id, ids, "another company's product")
        self.assertNotIn(self.archived.id, ids, "archived product")
        self.assertIsInstance(data["took_ms"], float)
        item = next(item for item in data["results"] if item["id"] == self.product_a.id)
        self.assertEqual(item["name"], "Pelican Toaster")
        self.assertEqual(item["list_price"], 120.0)
        self.assertEqual(item["currency"], self.product_a.currency_id.name)
        self.assertEqual(item["category"], "All > Kitchen")
        self.assertIs(item["in_stock"], True)
        self.assertGreater(item["score"], 0)
        self.assertTrue(set(item["scores"]) <= {"dense", "bm25", "chars"})

    def test_price_is_read_live(self):
        self.product_a.with_context(semantic_search_no_enqueue=True).list_price = 99.0
        response = self._post({"query": "pelican toaster"})
        item = next(item for item in response.json()["results"] if item["id"] == self.product_a.id)
        self.assertEqual(item["list_price"], 99.0)

    def test_filters_and_methods(self):
        response = self._post({"query": "pelican toaster", "method": "bm25", "filters": {"price_min": 200}})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual([item["id"] for item in response.json()["results"]], [self.shared.id])
        response = self._post({"query": "pelican toaster", "filters": {"category": "All / Kitchen"}})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertTrue(response.json()["results"])
        response = self._post({"query": "pelican toaster", "filters": {"category": "All / Garden"}})
        self.assertEqual(response.json()["results"], [])

    def test_missing_key(self):
        self._assert_error(self._post({"query": "toaster"}, key=False), 401, "missing_api_key")

    def test_bad_key(self):
        self._assert_error(self._post({"query": "toaster"}, key="not-a-real-key-0123456789"), 401, "invalid_api_key")

    def test_session_cookie_is_not_enough(self):
        self.authenticate("admin", "admin")
        self._assert_error(self._post({"query": "toaster"}, key=False), 401, "missing_api_key")

    def test_limit_is_capped(self):
        self._set_params(search_max_limit="2")
        response = self._post({"query": "pelican toaster", "limit": 1000})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertLessEqual(len(response.json()["results"]), 2)
        response = self._post({"query": "pelican toaster", "limit": 1})
        self.assertEqual(len(response.json()["results"]), 1)

    def test_malformed_json(self):
        self._assert_error(self._post(None, raw='{"query": "toaster"'), 400, "bad_json")
        self._assert_error(self._post(["toaster"]), 400, "bad_request")

    def test_bad_fields(self):
        self._assert_error(self._post({"query": "toaster", "sort": "price"}), 400, "unknown_field")
        self._assert_error(self._post({"query": ""}), 400, "invalid_query")
        self._assert_error(self._post({"query": 42}), 400, "invalid_query")
        self._assert_error(self._post({"query": "toaster", "limit": "ten"}), 400, "invalid_limit")
        self._assert_error(self._post({"query": "toaster", "method": "magic"}), 400, "invalid_method")

    def test_filters_are_validated(self):
        self._assert_error(self._post({"query": "toaster", "filters": {"colour": "red"}}), 400, "unknown_filter")
        # a client may not widen its companies through the filters
        self._assert_error(
            self._post({"query": "toaster", "filters": {"company_id": self.company_b.id}}), 400, "unknown_filter"
        )
        self._assert_error(self._post({"query": "toaster", "filters": {"price_min": "cheap"}}), 400, "invalid_filter")
        self._assert_error(
            self._post({"query": "toaster", "filters": {"price_min": 10, "price_max": 5}}), 400, "invalid_filter"
        )

    def test_hostile_bodies(self):
        for raw in (b'\xff\xfe{"query": 1}', "null", '"toaster"', "42", " ", "{}"):
            response = self._post(None, raw=raw)
            self.assertEqual(response.status_code, 400, (raw, response.text))
            self.assertIn("code", response.json()["error"])
        self._assert_error(self._post({"query": "toaster", "filters": ["category"]}), 400, "invalid_filter")
        self._assert_error(self._post({"query": "toaster", "limit": True}), 400, "invalid_limit")
        self._assert_error(self._post({"query": {"$ne": ""}}), 400, "invalid_query")
        self._assert_error(self._post({"query": "pelican " * 1200}), 400, "query_too_long")
        # odd text is just text
        for query in ("pelican " * 120, "'; DROP TABLE product_template; --", "<script>alert(1)</script>"):
            response = self._post({"query": query})
            self.assertEqual(response.status_code, 200, response.text)
            ids = {row["id"] for row in response.json()["results"]}
            self.assertNotIn(self.product_b.id, ids)
        self.assertTrue(self.env["product.template"].search_count([]))

    def test_oversized_body(self):
        body = json.dumps({"query": "toaster " * 10000})
        self.assertGreater(len(body), 64 * 1024)
        self._assert_error(self._post(None, raw=body), 413, "body_too_large")

    def test_wrong_method(self):
        response = self.url_open(SEARCH_URL, headers={"Authorization": f"Bearer {self.api_key}"})
        self.assertIn(response.status_code, (404, 405))

    def test_rate_limit(self):
        self._set_params(api_rate_limit="2")
        self.assertEqual(self._post({"query": "toaster"}).status_code, 200)
        self.assertEqual(self._post({"query": "toaster"}).status_code, 200)
        response = self._post({"query": "toaster"})
        self._assert_error(response, 429, "rate_limited")
        self.assertTrue(int(response.headers["Retry-After"]) >= 1)

    def test_failed_authentications_are_rate_limited(self):
        statuses = [self._post({"query": "toaster"}, key="wrong-key-000000000000").status_code for _i in range(40)]
        self.assertEqual(statuses[0], 401)
        self.assertIn(429, statuses)
        # a valid key still passes: a guesser behind the same address cannot lock out integrations
        self.assertEqual(self._post({"query": "toaster"}).status_code, 200)

    def test_store_unavailable(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with mute_logger("odoo.addons.semantic_product_description.controllers.semantic_product_description"):
            response = self._post({"query": "toaster"})
        self._assert_error(response, 503, "store_unavailable")
        self.assertNotIn("127.0.0.1", response.text)

    def test_index_not_built(self):
        self._set_params(store_path=f"{self.store_dir}/empty")
        with mute_logger("odoo.addons.semantic_product_description.controllers.semantic_product_description"):
            self._assert_error(self._post({"query": "toaster"}), 503, "index_not_built")

    def test_health(self):
        response = self.url_open("/api/v1/health")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"status": "ok", "index_built": True})
        self._set_params(store_path=f"{self.store_dir}/empty")
        self.assertEqual(self.url_open("/api/v1/health").json(), {"status": "ok", "index_built": False})
