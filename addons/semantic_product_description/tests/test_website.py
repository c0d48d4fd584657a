# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""With ``website_sale`` installed: the published flag and ``website_id`` reach the index and the API.

CI runs these on a database with ``website_sale`` (``.ci/odoo-tests``, tag ``spd_website``); without it
they are skipped.
"""

import json
import unittest

from odoo.tests import HttpCase, new_test_user, tagged

from ..rate_limit import limiter
from .common import SemanticSearchTestMixin

SEARCH_URL = "/api/v1/products/search"


@tagged("post_install", "-at_install", "spd_website")
class TestWebsite(SemanticSearchTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "website_id" not in cls.env["product.template"]._fields:
            raise unittest.SkipTest("website_sale is not installed")
        cls._setup_semantic_search()
        Website = cls.env["website"]
        cls.web_one = Website.create({"name": "Shop One"})
        cls.web_two = Website.create({"name": "Shop Two"})
        user = new_test_user(
            cls.env,
            login="spd_web_api",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_user",
        )
        cls.api_key = cls.env["res.users.apikeys"].with_user(user).sudo()._generate("semantic_search", "web", None)

    def setUp(self):
        super().setUp()
        limiter.reset()

    def _found(self, query, **filters):
        response = self.url_open(
            SEARCH_URL,
            data=json.dumps({"query": query, "limit": 10, "filters": filters}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        return {item["id"] for item in response.json()["results"]}

    def test_published_flag_and_website_description(self):
        product = self._create_product(
            "Wallaby Tote", is_published=False, website_description="<p>Canvas <b>tote</b></p>"
        )
        document = self.service._product_document(product)
        self.assertFalse(document.published)
        self.assertEqual(document.description, "Canvas tote")
        product.is_published = True
        self.assertTrue(self._sync_jobs(product))
        self.assertTrue(self.service._product_document(product).published)

    def test_a_product_of_one_website_is_found_on_that_website_only(self):
        everywhere = self._create_product("Quokka Lantern")
        one = self._create_product("Quokka Lantern Mini", website_id=self.web_one.id)
        two = self._create_product("Quokka Lantern Max", website_id=self.web_two.id)
        self._run_jobs()
        self.assertEqual(self.service._product_document(one).website_id, self.web_one.id)
        self.assertIsNone(self.service._product_document(everywhere).website_id)
        on_one = self._found("quokka lantern", website_id=self.web_one.id)
        self.assertEqual(on_one, {everywhere.id, one.id})
        self.assertEqual(self._found("quokka lantern"), {everywhere.id, one.id, two.id}, "no filter: every website")
        # moving a product re-indexes it
        one.website_id = self.web_two
        self.assertTrue(self._sync_jobs(one))
        self._run_jobs()
        self.assertEqual(self._found("quokka lantern", website_id=self.web_one.id), {everywhere.id})
        # moved behind the index's back: the live website decides
        two.with_context(semantic_search_no_enqueue=True).website_id = self.web_one
        self.assertNotIn(two.id, self._found("quokka lantern", website_id=self.web_two.id))
