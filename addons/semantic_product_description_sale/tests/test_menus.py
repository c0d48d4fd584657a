# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.semantic_product_description.tests.test_ui import (
    assert_every_string_has_a_brazilian_portuguese_translation,
)

SPD = "semantic_product_description"


@tagged("post_install", "-at_install")
class TestSalesMenus(TransactionCase):
    def _visible(self, user):
        """The menus under Sales > Configuration > Semantic Search that ``user`` sees (no debug mode)."""
        menus = self.env["ir.ui.menu"].with_user(user)
        visible = menus._visible_menu_ids(debug=False)
        root = self.env.ref("semantic_product_description_sale.sale_semantic_search_menu")
        return {menu.name for menu in root.child_id if menu.id in visible} if root.id in visible else set()

    def test_sales_managers_find_semantic_search_under_sales_configuration(self):
        root = self.env.ref("semantic_product_description_sale.sale_semantic_search_menu")
        self.assertEqual(root.parent_id, self.env.ref("sale.menu_sale_config"))
        manager = new_test_user(
            self.env, login="spd_sale_manager", groups=f"sales_team.group_sale_manager,{SPD}.{SPD}_group_manager"
        )
        self.assertEqual(
            self._visible(manager),
            {
                "Rebuilds",
                "Reindex Catalogue",
                "Webhook Endpoints",
                "Webhook Deliveries",
                "Chatwoot Conversations",
                "Generate API Key",
            },
        )
        salesman = new_test_user(
            self.env, login="spd_salesman", groups=f"sales_team.group_sale_manager,{SPD}.{SPD}_group_user"
        )
        self.assertEqual(self._visible(salesman), {"Rebuilds"})
        no_rights = new_test_user(self.env, login="spd_sale_only", groups="sales_team.group_sale_manager")
        self.assertEqual(self._visible(no_rights), set(), "without Semantic Search rights: nothing")
        admin = self.env.ref("base.user_admin")
        self.assertIn("Settings", self._visible(admin))

    def test_every_entry_opens_the_semantic_search_apps_action(self):
        apps = {
            menu.action
            for menu in self.env["ir.ui.menu"].search(
                [("id", "child_of", self.env.ref(f"{SPD}.semantic_search_menu").id)]
            )
            if menu.action
        }
        root = self.env.ref("semantic_product_description_sale.sale_semantic_search_menu")
        self.assertTrue(root.child_id)
        for menu in root.child_id:
            self.assertIn(menu.action, apps, menu.name)


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_menu_has_a_brazilian_portuguese_name(self):
        assert_every_string_has_a_brazilian_portuguese_translation(self, "semantic_product_description_sale", set())
