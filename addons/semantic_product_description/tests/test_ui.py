# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.tests import TransactionCase, new_test_user, tagged

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
        ):
            menu = self.env.ref(f"semantic_product_description.{xmlid}")
            self.assertIn(menu.id, visible, xmlid)
        settings = self.env.ref("semantic_product_description.semantic_settings_menu")
        self.assertNotIn(settings.id, visible)  # saving settings is for Settings administrators
        self.assertIn(settings.id, self._menu_ids(self.env.ref("base.user_admin")))

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
