# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

import polib
from lxml import etree

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import file_path
from odoo.tools.translate import TranslationModuleReader

MANAGER = "semantic_product_description.semantic_product_description_group_manager"
USER = "semantic_product_description.semantic_product_description_group_user"


@tagged("post_install", "-at_install")
class TestMenusAndButtons(TransactionCase):
    def _menu_ids(self, user):
        menus = self.env["ir.ui.menu"].with_user(user).load_menus(debug=False)
        return {menu_id for menu_id in menus if isinstance(menu_id, int)}

    def test_administrators_reach_the_menus_without_debug_mode(self):
        manager = new_test_user(self.env, login="spd_menu_manager", groups=f"base.group_user,{MANAGER}")
        visible = self._menu_ids(manager)
        for xmlid in (
            "semantic_search_menu",
            "semantic_reindex_run_menu",
            "semantic_webhook_endpoint_menu",
            "semantic_webhook_delivery_menu",
            "semantic_reindex_run_menu_reindex",
            "semantic_synonym_menu",
        ):
            menu = self.env.ref(f"semantic_product_description.{xmlid}")
            self.assertIn(menu.id, visible, xmlid)
        settings = self.env.ref("semantic_product_description.semantic_settings_menu")
        self.assertNotIn(settings.id, visible)  # saving settings is for Settings administrators
        self.assertIn(settings.id, self._menu_ids(self.env.ref("base.user_admin")))

    def test_secrets_of_the_settings_are_for_settings_administrators(self):
        """Semantic Search managers configure the search, never read the keys of the services it calls."""
        manager = new_test_user(self.env, login="spd_secret_manager", groups=f"base.group_user,{MANAGER}")
        secrets = {
            "semantic_embedder_api_key",
            "semantic_qdrant_api_key",
            "semantic_llm_api_key",
            "chatwoot_api_token",
            "chatwoot_webhook_secret",
            "chatwoot_webhook_url",
        }
        fields_of = self.env["res.config.settings"]._fields
        self.assertLessEqual(secrets, set(fields_of), "the names above are the settings' fields")
        for name in secrets:
            self.assertEqual(fields_of[name].groups, "base.group_system", name)
        visible = set(self.env["res.config.settings"].with_user(manager).fields_get())
        self.assertFalse(secrets & visible)
        self.assertLessEqual(
            secrets, set(self.env["res.config.settings"].with_user(self.env.ref("base.user_admin")).fields_get())
        )

    def test_users_see_no_button_they_may_not_press(self):
        user = new_test_user(self.env, login="spd_menu_user", groups=f"base.group_user,{USER}")
        manager = new_test_user(self.env, login="spd_menu_manager2", groups=f"base.group_user,{MANAGER}")
        cases = {
            "semantic.webhook.delivery": {"list": ["action_redeliver"], "form": ["action_redeliver"]},
            "semantic.webhook.endpoint": {
                "form": [
                    "action_send_test_event",
                    "action_pause",
                    "action_resume",
                    "action_show_secret",
                    "action_rotate_secret",
                ]
            },
        }
        for model, views in cases.items():
            for view_type, buttons in views.items():
                arch = etree.fromstring(self.env[model].with_user(user).get_view(view_type=view_type)["arch"])
                names = {button.get("name") for button in arch.iter("button")}
                self.assertFalse(names & set(buttons), f"{model} {view_type}: {names & set(buttons)}")
        arch = etree.fromstring(
            self.env["semantic.webhook.endpoint"].with_user(manager).get_view(view_type="form")["arch"]
        )
        names = {button.get("name") for button in arch.iter("button")}
        self.assertIn("action_pause", names)
        self.assertNotIn("action_rotate_secret", names)  # secrets stay with Settings administrators


#: Terms Brazilian Portuguese uses as they are (loanwords, codes)
SAME_IN_PORTUGUESE = {
    "Chatwoot",
    "Endpoint",
    "Endpoints",
    "ID",
    "Job",
    "Jobs",
    "Manual",
    "material",
    "URL",
    "Webhook %(event)s",
    "Webhooks",
}


def _own_term(env, allowed, row):
    """Whether an exported ``row`` is to be translated by the module whose dependency closure (itself
    included) is ``allowed``. A field that a module outside it adds to a mixin (``rating``'s "Ratings"
    on every ``mail.thread`` model, once ``website_sale`` is installed) is exported under the module
    too, but is not in its .pot, which is made with its dependencies alone."""
    if not row[2].startswith("ir.model.fields,"):
        return True
    record = env.ref(row[3], raise_if_not_found=False)
    field = record and env[record.model]._fields.get(record.name)
    return not field or bool(allowed.intersection(field._modules))


def assert_every_string_has_a_brazilian_portuguese_translation(test, module, same_in_portuguese):
    """Fail ``test`` unless ``module``'s ``i18n/pt_BR.po`` translates every user-visible string
    (``same_in_portuguese``: terms that read the same in pt_BR), with the same placeholders."""
    po = polib.pofile(file_path(f"{module}/i18n/pt_BR.po"))
    translated = {entry.msgid: entry.msgstr for entry in po if not entry.obsolete}
    # what Odoo would export now: field labels, help, selections, views, menus, code
    dependencies = test.env["ir.module.module"].search([("name", "=", module)]).upstream_dependencies()
    allowed = {module, *dependencies.mapped("name")}
    terms = {
        row[4] for row in TranslationModuleReader(test.env.cr, [module]) if row[4] and _own_term(test.env, allowed, row)
    }
    test.assertFalse(sorted(terms - set(translated)), "strings missing from i18n/pt_BR.po")
    # a msgstr equal to its msgid is left empty (oca-checks-po's format): these read the same in pt_BR
    test.assertFalse(
        sorted(
            msgid
            for msgid in terms
            if not translated[msgid] and msgid not in same_in_portuguese and not msgid.startswith("https://")
        ),
        "untranslated strings",
    )
    for msgid in (msgid for msgid in terms if translated[msgid]):
        test.assertEqual(
            sorted(re.findall(r"%\(\w+\)s|%s", msgid)),
            sorted(re.findall(r"%\(\w+\)s|%s", translated[msgid])),
            msgid,
        )


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_user_visible_string_has_a_brazilian_portuguese_translation(self):
        assert_every_string_has_a_brazilian_portuguese_translation(
            self, "semantic_product_description", SAME_IN_PORTUGUESE
        )

    def test_the_settings_screen_speaks_portuguese(self):
        self.env["res.lang"]._activate_lang("pt_BR")
        self.env["ir.module.module"].search([("name", "=", "semantic_product_description")])._update_translations(
            ["pt_BR"]
        )
        arch = self.env["res.config.settings"].with_context(lang="pt_BR").get_view(view_type="form")["arch"]
        self.assertIn("Testar conexão com o armazenamento", arch)
        self.assertIn("O idioma da empresa", arch)  # the language selection is never blank
        # the fact check's finding kinds, shown in the review dialog and the chatter
        labels = self.env["product.template"].with_context(lang="pt_BR")._semantic_finding_labels()
        self.assertEqual((labels["price"], labels["colour"], labels["certification"]), ("preço", "cor", "certificação"))
