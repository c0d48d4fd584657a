# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import dataclasses
import io
import json

from PIL import Image

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import BaseCase, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers.api import AUTH_FAILURES_PER_MINUTE
from ..rate_limit import TokenBucketLimiter, limiter
from .common import SemanticSearchTestMixin, free_port

SEARCH_URL = "/api/v1/products/search"


def _png():
    """A 1x1 PNG, base64-encoded as Odoo's image fields take it."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue())


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
            groups="base.group_user,semantic_product_description.semantic_product_description_group_user",
            company_id=cls.company_a.id,
            company_ids=[cls.company_a.id],
        )
        keys = cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()
        cls.api_key = keys._generate("semantic_search", "search tests", None)
        cls.global_key = keys._generate(None, "full rpc", None)
        cls.published_key = keys._generate("semantic_search_published", "chat bot", None)
        cls.no_group_user = new_test_user(cls.env, login="spd_nogroup", groups="base.group_user")
        cls.no_group_key = (
            cls.env["res.users.apikeys"].with_user(cls.no_group_user).sudo()._generate("semantic_search", "x", None)
        )
        cls.product_a = cls._create_product("Pelican Toaster", company_id=cls.company_a.id, list_price=120.0)
        cls.product_b = cls._create_product("Pelican Toaster", company_id=cls.company_b.id)
        cls.shared = cls._create_product("Pelican Toaster Deluxe", list_price=300.0)
        cls.archived = cls._create_product("Pelican Toaster Old", company_id=cls.company_a.id)
        if "is_published" in cls.product_a._fields:  # website_sale installed: products start unpublished
            (cls.product_a | cls.product_b | cls.shared | cls.archived).is_published = True
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
        self.assertEqual(item["category"], "All / Kitchen")
        self.assertIs(item["in_stock"], True)
        self.assertGreater(item["score"], 0)
        self.assertTrue(set(item["scores"]) <= {"dense", "bm25", "chars"})

    def test_corrected_query_is_returned(self):
        data = self._post({"query": "pelican tosater"}).json()
        self.assertEqual(data["corrected_query"], "pelican toaster")
        self.assertIn(self.product_a.id, [item["id"] for item in data["results"]])
        data = self._post({"query": "pelican toaster"}).json()
        self.assertIn("corrected_query", data)
        self.assertIsNone(data["corrected_query"])
        # a real word the catalogue lacks is never rewritten, even when it is one letter from a product word
        self.assertIsNone(self._post({"query": "toasted"}).json()["corrected_query"])

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

    def test_constraints_in_the_query_are_applied_and_returned(self):
        response = self._post({"query": "pelican toaster ate 200 reais"})
        self.assertEqual(response.status_code, 200, response.text)
        data = response.json()
        ids = [item["id"] for item in data["results"]]
        self.assertIn(self.product_a.id, ids)
        self.assertNotIn(self.shared.id, ids, "over the budget written in the query")
        self.assertEqual(
            data["understood"],
            [{"kind": "price_max", "value": 200.0, "text": "ate 200 reais", "applied": "filter"}],
        )
        # a budget nothing meets is relaxed, and said so: the customer still gets the toasters
        response = self._post({"query": "pelican toaster under $5"})
        data = response.json()
        self.assertIn(self.shared.id, [item["id"] for item in data["results"]])
        self.assertEqual(data["understood"][0]["applied"], "relaxed")
        # the caller's filter is never widened by a parsed one
        response = self._post({"query": "pelican toaster acima de 100", "filters": {"price_max": 200}})
        self.assertEqual([item["id"] for item in response.json()["results"]], [self.product_a.id])
        self.assertEqual(self._post({"query": "pelican toaster"}).json()["understood"], [])

    def test_attribute_filter_finds_a_template_by_one_of_its_variant_values(self):
        size = self.env["product.attribute"].create(
            {"name": "Tamanho", "value_ids": [Command.create({"name": name}) for name in ("38", "39", "40")]}
        )
        shoe = self._create_product(
            "Pelican Sneaker",
            attribute_line_ids=[
                Command.create({"attribute_id": size.id, "value_ids": [Command.set(size.value_ids.ids)]})
            ],
        )
        self._run_jobs()
        doc_id = self.env["semantic.search.service"]._product_doc_id(shoe.id)
        index = self.env["semantic.search.service"]._get_index()
        stored = index.store.retrieve(index.collection(), [doc_id])[doc_id]
        self.assertEqual(stored["attributes"], {"Tamanho": ["38", "39", "40"]})
        response = self._post({"query": "pelican", "filters": {"attributes": {"tamanho": ["39", "44"]}}})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual([item["id"] for item in response.json()["results"]], [shoe.id])
        response = self._post({"query": "pelican", "filters": {"attributes": {"Tamanho": [41]}}})
        self.assertEqual(response.json()["results"], [])
        response = self._post({"query": "pelican", "filters": {"attributes": {"colour": "blue"}}})
        ids = {item["id"] for item in response.json()["results"]}
        self.assertEqual(ids, {self.product_a.id, self.shared.id}, "a variant value of the toasters' colour line")

    def test_attribute_filter_is_validated(self):
        for attributes in ("Tamanho", ["Tamanho", "38"], {}, {"Tamanho": []}, {"Tamanho": [["38"]]}, {"Tamanho": True}):
            self._assert_error(
                self._post({"query": "toaster", "filters": {"attributes": attributes}}), 400, "invalid_filter"
            )

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
        for method in ("GET", "PUT", "DELETE"):
            response = self.opener.request(
                method, self.base_url() + SEARCH_URL, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=30
            )
            self._assert_error(response, 405, "method_not_allowed")
            self.assertEqual(response.headers["Allow"], "POST")

    def test_form_encoded_body(self):
        for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
            response = self._post(None, raw="query=toaster", headers={"Content-Type": content_type})
            self._assert_error(response, 415, "unsupported_media_type")
        response = self._post({"query": "toaster"}, headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(response.status_code, 200, response.text)

    def test_global_rpc_key_is_refused(self):
        # a key of Preferences > Account Security has full XML-RPC power: not for this API
        self._assert_error(self._post({"query": "toaster"}, key=self.global_key), 401, "invalid_api_key")
        # hostile keys: the real key's index with a huge or non-ASCII tail reads as a wrong key
        for hostile in (self.api_key + "0" * 10000, self.api_key[:8] + "é" * 40, self.api_key + "\x00"):
            self._assert_error(self._post({"query": "toaster"}, key=hostile), 401, "invalid_api_key")
        other_scope = self.env["res.users.apikeys"].with_user(self.api_user).sudo()._generate("other", "x", None)
        self._assert_error(self._post({"query": "toaster"}, key=other_scope), 401, "invalid_api_key")

    def test_key_user_needs_the_group(self):
        self._assert_error(self._post({"query": "toaster"}, key=self.no_group_key), 403, "forbidden")

    def test_published_key_sees_published_products_only(self):
        # the index says the deluxe toaster is unpublished (what website_sale's flag would say)
        service = self.env["semantic.search.service"]
        document = service._product_document(self.shared)
        service._get_index().upsert([dataclasses.replace(document, published=False)])
        ids = [item["id"] for item in self._post({"query": "pelican toaster"}).json()["results"]]
        self.assertIn(self.shared.id, ids)
        response = self._post({"query": "pelican toaster"}, key=self.published_key)
        self.assertEqual(response.status_code, 200, response.text)
        ids = [item["id"] for item in response.json()["results"]]
        self.assertIn(self.product_a.id, ids)
        self.assertNotIn(self.shared.id, ids)
        # the caller cannot widen it
        response = self._post({"query": "pelican toaster", "filters": {"published": False}}, key=self.published_key)
        self._assert_error(response, 400, "unknown_filter")

    def test_api_key_wizard(self):
        wizard = (
            self.env["semantic.api.key.wizard"]
            .with_user(self.api_user)
            .create({"name": "chat", "expiration_date": "2999-01-01 00:00:00"})
        )
        with self.assertRaisesRegex(ValidationError, "cannot exceed"):
            wizard.action_generate()  # Odoo's duration limit applies to a user's own key
        admin = self.env.ref("base.user_admin")
        admin_wizard = (
            self.env["semantic.api.key.wizard"]
            .with_user(admin)
            .create({"name": "chat", "user_id": self.api_user.id, "published_only": True})
        )
        action = admin_wizard.action_generate()
        # shown by this wizard (Odoo's own key dialog would say the key gives full account access)
        self.assertEqual((action["res_model"], action["res_id"]), ("semantic.api.key.wizard", admin_wizard.id))
        self.assertEqual(admin_wizard.state, "done")
        key = admin_wizard.key
        self.assertEqual(self._post({"query": "pelican toaster"}, key=key).status_code, 200)
        stored = (
            self.env["res.users.apikeys"].sudo().search([("user_id", "=", self.api_user.id), ("name", "=", "chat")])
        )
        self.assertEqual(stored.scope, "semantic_search_published")
        # a user without the group gets no key, and a plain user makes none for others
        with self.assertRaises(UserError):
            self.env["semantic.api.key.wizard"].with_user(admin).create(
                {"name": "x", "user_id": self.no_group_user.id}
            ).action_generate()
        with self.assertRaises(AccessError):
            self.env["semantic.api.key.wizard"].with_user(self.api_user).create(
                {"name": "x", "user_id": self.env.ref("base.user_admin").id, "expiration_date": "2030-01-01"}
            ).action_generate()

    def test_rate_limit(self):
        self._set_params(api_rate_limit="2")
        self.assertEqual(self._post({"query": "toaster"}).status_code, 200)
        self.assertEqual(self._post({"query": "toaster"}).status_code, 200)
        response = self._post({"query": "toaster"})
        self._assert_error(response, 429, "rate_limited")
        self.assertTrue(int(response.headers["Retry-After"]) >= 1)

    def test_failed_authentications_are_rate_limited(self):
        self.patch(limiter, "_clock", lambda: 1000.0)  # no token refills while the 40 requests arrive
        statuses = [self._post({"query": "toaster"}, key="wrong-key-000000000000").status_code for _i in range(40)]
        self.assertEqual(statuses, [401] * AUTH_FAILURES_PER_MINUTE + [429] * (40 - AUTH_FAILURES_PER_MINUTE))
        # checked before the key is verified: once the address spent its failures, even the
        # right key is not confirmed (a guesser learns nothing until the bucket refills)
        self._assert_error(self._post({"query": "toaster"}), 429, "rate_limited")

    def test_store_unavailable(self):
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with mute_logger("odoo.addons.semantic_product_description.controllers.api"):
            response = self._post({"query": "toaster"})
        self._assert_error(response, 503, "store_unavailable")
        self.assertNotIn("127.0.0.1", response.text)

    def test_index_not_built(self):
        self._set_params(store_path=f"{self.store_dir}/empty")
        with mute_logger("odoo.addons.semantic_product_description.controllers.api"):
            self._assert_error(self._post({"query": "toaster"}), 503, "index_not_built")

    def test_health_liveness_is_cheap_and_public(self):
        # a store that cannot be reached does not make the liveness answer fail or leak codes
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        response = self.url_open("/api/v1/health")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json(), {"status": "ok"})
        self._assert_error(self.url_open("/api/v1/health", data="{}"), 405, "method_not_allowed")

    def test_health_readiness_needs_the_token(self):
        url = "/api/v1/health/ready"
        self._assert_error(self.url_open(url), 404, "not_enabled")
        self._set_params(health_token="s3cret-health-token")
        self._assert_error(self.url_open(url), 401, "invalid_token")
        for header in (
            "Bearer wrong",
            "Bearer s3cret-health-tokeñ",
            "Basic s3cret-health-token",
            "s3cret-health-token",
        ):
            self._assert_error(self.url_open(url, headers={"Authorization": header}), 401, "invalid_token")
        self._assert_error(
            self.url_open(url, headers={"Authorization": f"Bearer {self.api_key}"}), 401, "invalid_token"
        )
        headers = {"Authorization": "Bearer s3cret-health-token"}
        response = self.url_open(url, headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["index_built"], True)
        self._set_params(store_path=f"{self.store_dir}/empty")
        self.assertEqual(self.url_open(url, headers=headers).json()["index_built"], False)
        self._set_params(store_mode="qdrant", qdrant_url=f"http://127.0.0.1:{free_port()}")
        with mute_logger("odoo.addons.semantic_product_description.controllers.semantic_product_description"):
            response = self.url_open(url, headers=headers)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["error"]["code"], "store_unavailable")

    def test_category_convention_and_leaf(self):
        clothes = self.env["product.category"].create({"name": "Roupas"})
        shirts = self.env["product.category"].create({"name": "Camisetas", "parent_id": clothes.id})
        shirt = self._create_product("Camiseta Pelican Algodao", categ_id=shirts.id, company_id=False)
        self._run_jobs()
        for category in (
            "Roupas / Camisetas",
            "Roupas > Camisetas",
            " roupas  /  CAMISETAS ",
            "Camisetas",
            "camisetas",
        ):
            response = self._post({"query": "camiseta pelican", "filters": {"category": category}})
            self.assertEqual(response.status_code, 200, (category, response.text))
            ids = [item["id"] for item in response.json()["results"]]
            self.assertEqual(ids, [shirt.id], category)
        item = self._post({"query": "camiseta pelican", "filters": {"category": "Camisetas"}}).json()["results"][0]
        self.assertEqual(item["category"], "Roupas / Camisetas")
        # two categories of that name: the caller is told which paths exist
        self.env["product.category"].create({"name": "Camisetas", "parent_id": self.category.id})
        response = self._post({"query": "camiseta", "filters": {"category": "Camisetas"}})
        self._assert_error(response, 400, "ambiguous_category")
        self.assertIn("Roupas / Camisetas", response.json()["error"]["message"])
        self.assertEqual(self._post({"query": "x", "filters": {"category": "Nope"}}).json()["results"], [])
        for hostile in (" > ", "/", "Roupas / / > ", "%", "' OR 1=1 --"):
            response = self._post({"query": "camiseta", "filters": {"category": hostile}})
            self.assertEqual(response.status_code, 200, (hostile, response.text))
            self.assertEqual(response.json()["results"], [], hostile)
        for hostile in (42, ["Roupas"], "x" * 501, ""):
            response = self._post({"query": "camiseta", "filters": {"category": hostile}})
            self._assert_error(response, 400, "invalid_filter")

    def test_booleans_must_be_json_booleans(self):
        for value in ("false", "true", 0, 1, "yes", [], {}):
            response = self._post({"query": "toaster", "filters": {"in_stock": value}})
            self._assert_error(response, 400, "invalid_filter")
            self._assert_error(self._post({"query": "toaster", "variants": value}), 400, "invalid_variants")
        self.assertEqual(self._post({"query": "toaster", "filters": {"in_stock": True}}).status_code, 200)

    def test_min_confidence_cuts_weak_hits(self):
        everything = self._post({"query": "pelican toaster deluxe", "limit": 10}).json()["results"]
        self.assertGreaterEqual(len(everything), 2)
        confidences = [item["confidence"] for item in everything]
        self.assertTrue(all(0 <= value <= 1 for value in confidences))
        self.assertEqual(
            self._post({"query": "pelican toaster deluxe", "min_confidence": 0}).json()["results"], everything
        )
        # between the best hit's confidence and the next one's: only the hits at or above it stay
        floor = round(max(confidences) - 0.0001, 4)
        response = self._post({"query": "pelican toaster deluxe", "limit": 10, "min_confidence": floor})
        self.assertEqual(response.status_code, 200, response.text)
        kept = response.json()["results"]
        self.assertEqual(
            [item["id"] for item in kept], [item["id"] for item in everything if item["confidence"] >= floor]
        )
        self.assertLess(len(kept), len(everything))
        response = self._post({"query": "pelican toaster deluxe", "min_confidence": 1})
        self.assertEqual((response.status_code, response.json()["results"]), (200, []))

    def test_min_confidence_is_validated(self):
        for value in (-0.1, 1.5, "0.5", "high", True, False, [], {}, 1e400):
            response = self._post({"query": "pelican toaster", "min_confidence": value})
            self._assert_error(response, 400, "invalid_min_confidence")
        # NaN is not JSON, but Python's parser reads the bare word
        raw = '{"query": "pelican toaster", "min_confidence": NaN}'
        self._assert_error(self._post(None, raw=raw), 400, "invalid_min_confidence")

    def test_results_carry_what_a_client_needs(self):
        self.product_a.with_context(semantic_search_no_enqueue=True).write(
            {"default_code": "PEL-1", "description_sale": "Torradeira " + "muito boa " * 60, "image_1920": _png()}
        )
        response = self._post({"query": "pelican toaster"})
        item = next(item for item in response.json()["results"] if item["id"] == self.product_a.id)
        self.assertEqual(item["default_code"], "PEL-1")
        self.assertTrue(item["description"].startswith("Torradeira muito boa"))
        self.assertLessEqual(len(item["description"]), 301)
        self.assertNotIn("variants", item)
        published = "is_published" in self.product_a._fields
        self.assertEqual(item["website_url"] is not None, published)
        self.assertEqual(item["image_url"] is not None, published)
        # variants on request, each with its own price and stock
        red = self.product_a.attribute_line_ids.filtered(lambda line: line.attribute_id == self.color)
        red.product_template_value_ids.filtered(lambda value: value.name == "Red").price_extra = 10.0
        response = self._post({"query": "pelican toaster", "variants": True})
        item = next(item for item in response.json()["results"] if item["id"] == self.product_a.id)
        self.assertEqual(len(item["variants"]), len(self.product_a.product_variant_ids))
        prices = {variant["attributes"]["Colour"]: variant["price"] for variant in item["variants"]}
        self.assertEqual(prices, {"Red": 130.0, "Blue": 120.0})
        self.assertTrue(all(variant["in_stock"] is True for variant in item["variants"]))
        self.assertEqual({variant["id"] for variant in item["variants"]}, set(self.product_a.product_variant_ids.ids))


@tagged("post_install", "-at_install")
class TestRateLimiter(BaseCase):
    def test_least_recently_used_buckets_are_evicted(self):
        now = [0.0]
        buckets = TokenBucketLimiter(clock=lambda: now[0], max_buckets=3)
        self.assertTrue(buckets.allow("guesser", 1))
        self.assertFalse(buckets.allow("guesser", 1))
        for key in ("a", "b"):
            buckets.allow(key, 1)
        self.assertFalse(buckets.allow("guesser", 1))  # used again: the most recent
        buckets.allow("c", 1)  # one bucket too many: "a" (least recently used) goes
        self.assertFalse(buckets.allow("guesser", 1), "a full table must not reset the guesser's bucket")
        self.assertTrue(buckets.allow("a", 1))
        for index in range(100):
            buckets.allow(f"flood-{index}", 1)
        self.assertLessEqual(len(buckets._buckets), 3)
