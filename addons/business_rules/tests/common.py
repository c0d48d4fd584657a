# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import fields

from odoo.addons.semantic_product_description.tests.common import SemanticSearchTestMixin


class BusinessRulesTestMixin(SemanticSearchTestMixin):
    @classmethod
    def _setup_business_rules(cls):
        cls._setup_semantic_search()
        cls.Rule = cls.env["business.rule"]
        now = fields.Datetime.now()
        cls.past = now - timedelta(days=30)
        cls.yesterday = now - timedelta(days=1)
        cls.tomorrow = now + timedelta(days=1)
        cls.later = now + timedelta(days=30)

    @classmethod
    def _rule(cls, name, content, rule_type="faq", **values):
        return cls.Rule.create({"name": name, "content": content, "rule_type": rule_type, **values})

    def _found_rules(self, query, **kwargs):
        result = self.service.search_rules(query, **kwargs)
        return [self.service._parse_rule_doc_id(hit.id) for hit in result.hits]
