# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import TransactionCase, tagged

from odoo.addons.semantic_product_description.tests.test_ui import (
    assert_every_string_has_a_brazilian_portuguese_translation,
)

#: Terms Brazilian Portuguese uses as they are (loanwords, codes)
SAME_IN_PORTUGUESE = {"ID"}


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def test_every_user_visible_string_has_a_brazilian_portuguese_translation(self):
        assert_every_string_has_a_brazilian_portuguese_translation(self, "business_rules", SAME_IN_PORTUGUESE)
