# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..rate_limit import limiter
from .common import SemanticSearchTestMixin

SEARCH_URL = "/api/v1/products/search"


@tagged("post_install", "-at_install")
class TestSynonyms(SemanticSearchTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()
        cls.api_user = new_test_user(
            cls.env,
            login="spd_synonym_api",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_user",
        )
        cls.api_key = (
            cls.env["res.users.apikeys"].with_user(cls.api_user).sudo()._generate("semantic_search", "synonyms", None)
        )
        cls.product = cls._create_product("Zorblax Countertop Appliance", list_price=80.0)
        cls.other = cls._create_product("Garden Hose", list_price=20.0)
        cls._run_jobs()
        cls.Synonym = cls.env["semantic.synonym"]

    def setUp(self):
        super().setUp()
        limiter.reset()

    def _found(self, query):
        response = self.url_open(
            SEARCH_URL,
            data=json.dumps({"query": query, "method": "bm25", "limit": 10}),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        return [item["id"] for item in response.json()["results"]]

    def test_a_synonym_finds_the_product_until_archived(self):
        self.assertNotIn(self.product.id, self._found("quuxifier"))
        synonym = self.Synonym.create({"name": "quuxifier, zorblax"})
        self.assertEqual(self._found("quuxifier"), [self.product.id])
        synonym.active = False
        self.assertNotIn(self.product.id, self._found("quuxifier"))
        synonym.active = True
        self.assertEqual(self._found("quuxifier"), [self.product.id])
        synonym.unlink()
        self.assertNotIn(self.product.id, self._found("quuxifier"))

    def test_one_way_set(self):
        self.Synonym.create({"root": "zorblax", "name": "hose"})
        self.assertEqual(set(self._found("zorblax")), {self.product.id, self.other.id})
        self.assertEqual(self._found("hose"), [self.other.id], "a synonym does not search its root")

    def test_changes_need_no_reindex(self):
        self.Synonym.create({"name": "quuxifier, zorblax"})
        self.assertEqual(self._found("quuxifier"), [self.product.id])
        self.assertFalse(self._semantic_jobs(), "a synonym change queues no job")

    def test_the_sets_are_read_again_once_a_change_is_committed(self):
        synonym = self.Synonym.create({"name": "quuxifier, zorblax"})
        # a search in another thread caches the sets it sees before the commit; stand-in: the
        # sets cached now, then changed behind the cache's back
        self.assertEqual(len(self.Synonym._get_sets("en")), 1)
        self.env.cr.execute("UPDATE semantic_synonym SET active = FALSE WHERE id = %s", [synonym.id])
        self.assertEqual(len(self.Synonym._get_sets("en")), 1, "cached")
        self.env.cr.postcommit.run()  # what the commit does
        self.assertEqual(self.Synonym._get_sets("en"), ())

    def test_a_set_invalid_in_the_new_language_is_skipped(self):
        """'lata, can' is valid in Portuguese; in English 'can' is a stopword: searches still work."""
        self._set_params(language="pt")
        self.Synonym.create([{"name": "lata, can"}, {"name": "quuxifier, zorblax"}])
        self._set_params(language="en")
        with self.assertLogs("odoo.addons.semantic_product_description.models.semantic_synonym", "WARNING") as logs:
            self.assertEqual(self._found("quuxifier"), [self.product.id])
            self.assertEqual(self._found("garden hose"), [self.other.id])
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("'lata, can'", logs.output[0])
        self.assertNotIn("quuxifier", logs.output[0])

    def test_bad_sets_are_refused_in_plain_language(self):
        cases = [
            ({"name": "zorblax"}, "at least two different synonyms"),
            ({"name": "zorblax, Zorblax "}, "at least two different synonyms"),
            ({"name": ", ,"}, "at least two different synonyms"),
            ({"name": "zorblax, the"}, "can be searched"),
            ({"name": "zorblax, " + "x" * 65}, "at most 64 characters"),
            ({"name": ", ".join(f"term{i}" for i in range(65))}, "at most 64 synonyms"),
            ({"root": "zorblax", "name": "zorblax"}, "a root and one synonym"),
        ]
        for values, fragment in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as error:
                self.Synonym.create(values)
            self.assertIn(fragment, str(error.exception))
        synonym = self.Synonym.create({"name": "quuxifier, zorblax"})
        with self.assertRaises(ValidationError):
            synonym.name = "quuxifier"

    @mute_logger("odoo.models")
    def test_users_read_managers_edit(self):
        synonym = self.Synonym.create({"name": "quuxifier, zorblax"})
        self.assertEqual(synonym.with_user(self.api_user).name, "quuxifier, zorblax")
        with self.assertRaises(AccessError):
            self.Synonym.with_user(self.api_user).create({"name": "a1, b1"})
        manager = new_test_user(
            self.env,
            login="spd_synonym_manager",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_manager",
        )
        synonym.with_user(manager).write({"name": "quuxifier, zorblax, blorp"})
        self.assertEqual(self.Synonym._get_sets("en")[0].synonyms, ("quuxifier", "zorblax", "blorp"))
