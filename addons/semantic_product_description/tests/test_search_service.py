# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import importlib.util
import logging
import os
import tempfile
from unittest.mock import patch

from odoo import tools
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo_search_lib import ConfigError, DocumentError, Settings, StoreLockedError, StoreSettings
from odoo_search_lib.index import SearchIndex
from odoo_search_lib.store import open_store

from .. import search_registry
from ..models.semantic_search_service import CANDIDATE_DEPTH, PARAM_PREFIX
from .common import FakeLLMServer, SemanticSearchTestMixin, free_port


@tagged("post_install", "-at_install")
class TestSemanticSearchService(SemanticSearchTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()

    def test_document_from_product(self):
        product = self._create_product("Galah Teapot", default_code="GT-1", description_sale="Loose leaf tea.")
        document = self.service._product_document(product)
        self.assertEqual(document.id, f"product.template,{product.id}")
        self.assertEqual(document.name, "Galah Teapot")
        self.assertEqual(document.category, "All > Kitchen")
        self.assertEqual(dict(document.attributes), {"Colour": ("Red", "Blue"), "Material": "Steel"})
        self.assertEqual(document.tags, ("gift",))
        self.assertEqual(document.price, 49.9)
        self.assertEqual(document.currency, product.currency_id.name)
        self.assertEqual(document.description, "Loose leaf tea.")
        self.assertIsNone(document.company_id)
        self.assertEqual(dict(document.extra), {"sale_ok": True, "active": True, "default_code": "GT-1"})
        if "qty_available" not in product._fields:
            self.assertTrue(document.in_stock)
        if "is_published" not in product._fields:
            self.assertTrue(document.published)

    def test_stock_when_installed(self):
        if "qty_available" not in self.env["product.template"]._fields:
            self.skipTest("stock is not installed")
        product = self._create_product("Koala Thermos", is_storable=True)
        self.assertFalse(self.service._product_document(product).in_stock)
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1)
        self.env["stock.quant"]._update_available_quantity(product.product_variant_ids[0], warehouse.lot_stock_id, 5)
        self.env.invalidate_all()  # qty_available is computed on the variants, not stored
        self.assertTrue(self.service._product_document(product).in_stock)
        service = self._create_product("Koala Repair", type="service")
        self.assertTrue(self.service._product_document(service).in_stock)

    def test_semantic_description_wins_and_html_is_stripped(self):
        product = self._create_product(
            "Rosella Jar",
            description_sale="<p>Sale <b>text</b></p>",
        )
        self.assertEqual(self.service._product_document(product).description, "Sale text")
        product.semantic_description = "<div>Glass jar<br/>with <i>lid</i><script>alert(1)</script></div>"
        description = self.service._product_document(product).description
        self.assertNotIn("<", description)
        self.assertNotIn("alert", description)
        self.assertIn("Glass jar", description)
        self.assertIn("lid", description)

    def test_document_builder_rejects_empty_names(self):
        product = self.env["product.template"].new({"name": "  ", "list_price": 1.0})
        with self.assertRaises(DocumentError) as caught:
            self.service._product_document(product)
        self.assertEqual(caught.exception.code, "missing_name")
        with self.assertRaises(Exception) as caught:
            self.service._product_facts(product)
        self.assertIn("name", str(caught.exception))

    def test_two_companies_are_isolated(self):
        company_a = self.env["res.company"].create({"name": "Shop A"})
        company_b = self.env["res.company"].create({"name": "Shop B"})
        product_a = self._create_product("Magpie Colander", company_id=company_a.id)
        product_b = self._create_product("Magpie Colander", company_id=company_b.id)
        shared = self._create_product("Magpie Colander")
        self._run_jobs()
        found_a = self._found_ids("magpie colander", company_ids=[company_a.id])
        self.assertIn(product_a.id, found_a)
        self.assertIn(shared.id, found_a)
        self.assertNotIn(product_b.id, found_a)
        found_b = self._found_ids("magpie colander", company_ids=[company_b.id])
        self.assertIn(product_b.id, found_b)
        self.assertNotIn(product_a.id, found_b)

    def test_two_databases_never_share_a_collection(self):
        params = self.service._get_parameters()
        params["store_path"] = ""
        one = self.service._build_settings(params, "shop_one")
        two = self.service._build_settings(params, "shop_two")
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid").replace("-", "")[:12]
        self.assertEqual((one.tenant, two.tenant), (f"shop_one-{uuid}", f"shop_two-{uuid}"))
        self.assertNotEqual(one.store.path, two.store.path)
        self.assertEqual(one.store.path, os.path.join(tools.config["data_dir"], "semantic_search", "shop_one"))
        embedder = search_registry._embedder(one)
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(_edge(tmp))
            try:
                alias_one = SearchIndex(one, embedder=embedder, store=store).alias
                alias_two = SearchIndex(two, embedder=embedder, store=store).alias
            finally:
                store.close()
        self.assertNotEqual(alias_one, alias_two)
        self.assertIn("shop_one", alias_one)
        self.assertIn("shop_two", alias_two)
        self.assertNotEqual(search_registry.settings_key(one), search_registry.settings_key(two))

    def test_a_copy_of_the_database_gets_collections_of_its_own(self):
        """Same name, new ``database.uuid`` (Odoo's "copied" restore): another tenant, other collections."""
        params = self.service._get_parameters()
        production = self.service._build_settings(params, "shop")
        self.env["ir.config_parameter"].sudo().set_param("database.uuid", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        copy = self.service._build_settings(params, "shop")
        self.assertEqual(copy.tenant, "shop-0f1e2d3c4b5a")
        self.assertNotEqual(production.tenant, copy.tenant)
        self.assertNotEqual(search_registry.settings_key(production), search_registry.settings_key(copy))
        long_name = self.service._build_settings(params, "s" * 63)
        self.assertEqual(len(long_name.tenant), 63, "within the store's 63 characters")

    def test_settings_from_parameters(self):
        self._set_params(
            fusion="weighted",
            weight_dense="0.0",
            weight_bm25="2.5",
            weight_chars="0.25",
            rrf_k="30",
            search_max_limit="7",
        )
        settings = self.service._get_settings()
        self.assertTrue(settings.tenant.startswith(self.env.cr.dbname + "-"))
        self.assertEqual(settings.search.fusion, "weighted")
        self.assertEqual(dict(settings.search.weights), {"dense": 0.0, "bm25": 2.5, "chars": 0.25})
        self.assertEqual(settings.search.rrf_k, 30)
        # the library's cap admits the shop's deeper candidate list; the routes cap at 7 themselves
        self.assertEqual(settings.search.max_limit, CANDIDATE_DEPTH)
        self.assertEqual(settings.search.default_limit, 7)
        self.assertEqual(settings.store.path, self.store_dir)
        self._set_params(fusion="nonsense")
        with self.assertRaises(ConfigError) as caught:
            self.service._get_settings()
        self.assertIn("settings are invalid", self.service._error_message(caught.exception))

    def test_embedding_pool_follows_the_server(self):
        """Prefork workers embed in threads (no process pool per worker) unless odoo.conf says otherwise."""
        params = self.service._get_parameters()
        with patch.dict(tools.config.options, {"workers": 0}):
            self.assertEqual(self.service._build_settings(params, "shop").embedder.parallel, "auto")
        with patch.dict(tools.config.options, {"workers": 4}):
            self.assertEqual(self.service._build_settings(params, "shop").embedder.parallel, "threads")
        options = {
            "workers": 4,
            "semantic_search_embedder_parallel": "processes",
            "semantic_search_embedder_workers": "2",
            "semantic_search_embedder_pool_idle_seconds": "30",
        }
        with patch.dict(tools.config.options, options):
            embedder = self.service._build_settings(params, "shop").embedder
        self.assertEqual((embedder.parallel, embedder.workers, embedder.pool_idle_seconds), ("processes", 2, 30.0))
        self.assertEqual(self.service._build_settings(params, "shop").store.quantization, "int8")
        with patch.dict(tools.config.options, {"semantic_search_store_quantization": "none"}):
            self.assertEqual(self.service._build_settings(params, "shop").store.quantization, "none")
        with patch.dict(tools.config.options, {"semantic_search_store_quantization": "int4"}):
            with self.assertRaises(ConfigError) as caught:
                self.service._build_settings(params, "shop")
        self.assertIn("store.quantization", str(caught.exception))
        for key, value in (("parallel", "forks"), ("workers", "many"), ("workers", "500"), ("pool_idle_seconds", "0")):
            with patch.dict(tools.config.options, {f"semantic_search_embedder_{key}": value}):
                with self.assertRaises(ConfigError, msg=f"{key}={value}") as caught:
                    self.service._build_settings(params, "shop")
            self.assertIn(key, str(caught.exception))
        with patch.dict(tools.config.options, {"semantic_search_embedder_workers": "many"}):
            with self.assertRaises(ConfigError) as caught:
                self.service._build_settings(params, "shop")
        self.assertEqual(caught.exception.code, "invalid_embedder_option")

    def test_ranking_defaults_are_the_librarys(self):
        """Nothing stored: searches and the settings screen use the library's ranking defaults."""
        params = self.env["ir.config_parameter"].sudo()
        keys = [PARAM_PREFIX + key for key in ("fusion", "rrf_k", "weight_dense", "weight_bm25", "weight_chars")]
        params.search([("key", "in", keys)]).unlink()
        library = Settings.from_dict({"language": "en"}).search  # the tests' search language
        self.assertEqual(self.service._get_settings().search.rrf_k, library.rrf_k)
        self.assertEqual(dict(self.service._get_settings().search.weights), dict(library.weights))
        self.assertEqual(self.service._get_settings().search.fusion, library.fusion)
        screen = self.env["res.config.settings"].create({})
        self.assertEqual(screen.semantic_rrf_k, library.rrf_k)
        self.assertEqual(screen.semantic_weight_dense, library.weights["dense"])
        self.assertEqual(screen.semantic_fusion, library.fusion)
        screen.set_values()
        self.assertFalse(params.search([("key", "in", keys)]), "saving the defaults stores nothing")
        self.env["res.config.settings"].create({"semantic_rrf_k": library.rrf_k + 5}).set_values()
        self.assertEqual(self.service._get_param("rrf_k"), str(library.rrf_k + 5))
        self.assertEqual(self.service._get_settings().search.rrf_k, library.rrf_k + 5)

    def test_switching_the_language_keeps_following_the_library(self):
        """A pt database with untouched weights switched to en stores no weights: the English defaults apply."""
        params = self.env["ir.config_parameter"].sudo()
        keys = [PARAM_PREFIX + key for key in ("fusion", "rrf_k", "weight_dense", "weight_bm25", "weight_chars")]
        params.search([("key", "in", keys)]).unlink()
        self._set_params(language="pt")
        screen = self.env["res.config.settings"].create({})
        self.assertEqual(screen.semantic_weight_dense, Settings.from_dict({"language": "pt"}).search.weights["dense"])
        screen.semantic_language = "en"
        screen.set_values()
        self.assertFalse(params.search([("key", "in", keys)]), "the Portuguese defaults were not stored")
        english = Settings.from_dict({"language": "en"}).search
        self.assertEqual(dict(self.service._library_search_defaults().weights), dict(english.weights))
        self.assertEqual(dict(self.service._get_settings().search.weights), dict(english.weights))
        # a weight someone changed is stored, and kept when the language changes again
        self.env["res.config.settings"].create({"semantic_weight_bm25": 2.5}).set_values()
        screen = self.env["res.config.settings"].create({})
        screen.semantic_language = "pt"
        screen.set_values()
        self.assertEqual(self.service._get_param("weight_bm25"), "2.5")
        self.assertFalse(params.search([("key", "in", keys[:3] + keys[4:])]))

    def test_upgrade_resets_the_old_untouched_ranking_defaults(self):
        """18.0.2.2.0: the addon's old defaults (rrf, 60, 1, 1, 0.5) go when all are untouched; else all stay."""
        path = os.path.join(os.path.dirname(__file__), "..", "migrations", "18.0.2.2.0", "post-migrate.py")
        spec = importlib.util.spec_from_file_location("semantic_post_migrate_18_0_2_2", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        old = {"fusion": "rrf", "rrf_k": "60", "weight_dense": "1.0", "weight_bm25": "1.0", "weight_chars": "0.5"}
        self._set_params(**old)
        self.assertEqual(sorted(module.reset_old_ranking_defaults(self.env)), sorted(old))
        library = Settings.from_dict({"language": "en"}).search
        search = self.service._get_settings().search
        self.assertEqual((search.fusion, search.rrf_k), (library.fusion, library.rrf_k))
        self.assertEqual(dict(search.weights), dict(library.weights))
        # someone changed one of them (RRF k): the library's weights would not fit it, all stay
        self._set_params(**dict(old, rrf_k="30"))
        with self.assertLogs(module._logger.name, logging.INFO) as logs:  # "INFO" is 25 under Odoo
            self.assertEqual(module.reset_old_ranking_defaults(self.env), [])
        self.assertIn("rrf_k changed", logs.output[0])
        self.assertEqual({key: self.service._get_param(key) for key in old}, dict(old, rrf_k="30"))
        self._set_params(**dict(old, fusion="dbsf"))
        self.assertEqual(module.reset_old_ranking_defaults(self.env), [])
        self.assertEqual(self.service._get_param("weight_dense"), "1.0")

    def test_settings_screen_keeps_zero_weights(self):
        settings = self.env["res.config.settings"].create({"semantic_weight_dense": 0.0, "semantic_weight_bm25": 1.5})
        settings.set_values()
        self.assertEqual(self.service._get_param("weight_dense"), "0.0")
        self.assertEqual(self.env["res.config.settings"].create({}).semantic_weight_bm25, 1.5)

    def test_language_defaults_to_main_company_language(self):
        self._set_params(language="")
        self.env["ir.config_parameter"].sudo().search([("key", "=", "semantic_product_description.language")]).unlink()
        main = self.env.ref("base.main_company")
        self.env["res.lang"]._activate_lang("pt_BR")
        main.partner_id.lang = "en_US"
        self.assertEqual(self.service._get_settings().language, "en")
        main.partner_id.lang = "pt_BR"
        self.assertEqual(self.service._get_settings().language, "pt")
        # a request in another company or by a user of another language sees the same settings
        other = self.env["res.company"].create({"name": "English Shop"})
        other.partner_id.lang = "en_US"
        user = new_test_user(self.env, login="spd_lang_user", company_id=other.id, company_ids=[other.id])
        service = self.service.with_user(user).with_company(other)
        self.assertEqual(service._get_settings().language, "pt")

    def test_edge_store_refused_with_workers(self):
        with patch.dict(tools.config.options, {"workers": 2}):
            with self.assertRaises(StoreLockedError) as caught:
                self.service._get_index()
        message = self.service._error_message(caught.exception)
        self.assertIn("Qdrant", message)
        self._set_params(store_mode="qdrant", qdrant_url="http://127.0.0.1:1")
        with patch.dict(tools.config.options, {"workers": 2}):
            self.assertTrue(self.service._get_index())  # a server store is fine with workers

    def test_store_locked_by_another_process_maps_to_qdrant_hint(self):
        with tempfile.TemporaryDirectory() as tmp:
            holder = open_store(_edge(tmp))
            try:
                self._set_params(store_path=tmp)
                with self.assertRaises(StoreLockedError) as caught:
                    self.service._get_index()
            finally:
                holder.close()
        self.assertIn("Qdrant URL", self.service._error_message(caught.exception))

    def test_test_buttons_try_the_form_values_without_saving(self):
        index = self.service._get_index()
        saved = self.service._get_parameters()
        other_setting = self.env["ir.config_parameter"].sudo().get_param("base_setup.default_user_rights")
        with tempfile.TemporaryDirectory() as tmp:
            settings = self.env["res.config.settings"].create(
                {"semantic_store_path": tmp, "semantic_fusion": "dbsf", "semantic_weight_bm25": 0.0}
            )
            action = settings.action_semantic_test_store()
            self.assertIn("(1)", action["params"]["message"])  # the test product went in and was counted
            self.assertEqual(os.listdir(tmp), [])  # a throw-away index, not the directory on screen
        self.assertEqual(self.service._get_parameters(), saved)  # nothing saved
        self.assertEqual(
            self.env["ir.config_parameter"].sudo().get_param("base_setup.default_user_rights"), other_setting
        )
        self.assertIs(self.service._get_index(), index)  # the open index (other threads' too) was not swapped
        # what is on screen is what is tested, even when it differs from what is saved
        settings = self.env["res.config.settings"].create(
            {"semantic_store_mode": "qdrant", "semantic_qdrant_url": f"http://127.0.0.1:{free_port()}"}
        )
        with self.assertRaises(UserError):
            settings.action_semantic_test_store()
        self.assertIs(self.service._get_index(), index)
        with FakeLLMServer("A mug.") as llm:
            settings = self.env["res.config.settings"].create(
                {"semantic_description_writer": "llm", "semantic_llm_base_url": llm.url, "semantic_llm_model": "m"}
            )
            action = settings.action_semantic_test_llm()
            self.assertEqual(len(llm.requests), 1)
        self.assertIn("answered", action["params"]["message"])
        self.assertEqual(self.service._get_parameters(), saved)

    def test_connection_test_buttons(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_semantic_test_store()
        self.assertEqual(action["tag"], "display_notification")
        settings = self.env["res.config.settings"].create(
            {"semantic_store_mode": "qdrant", "semantic_qdrant_url": "http://127.0.0.1:1"}
        )
        with self.assertRaises(UserError):
            settings.action_semantic_test_store()
        settings = self.env["res.config.settings"].create({"semantic_llm_base_url": False})
        with self.assertRaises(UserError):
            settings.action_semantic_test_llm()


def _edge(path):
    return StoreSettings(backend="edge", path=path)
