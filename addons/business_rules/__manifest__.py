# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{  # noqa: B018 - an Odoo manifest is a bare dict
    "name": "Business Rules",
    "summary": "The shop's rules (hours, delivery, payment, returns, promotions, FAQs) kept in Odoo, "
    "indexed for hybrid search with their validity, and served to the sales assistant",
    "version": "18.0.1.1.0",
    "category": "Sales/Sales",
    "website": "https://github.com/odoo-search-lib/odoo-search-lib",
    "author": "Odoo Search Lib contributors",
    "maintainers": ["odoo-search-lib"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": False,
    "installable": True,
    "depends": ["semantic_product_description", "sale"],
    "external_dependencies": {"python": ["odoo-search-lib>=0.2.0,<0.3"]},
    "data": [
        "security/ir.model.access.csv",
        "security/business_rule_security.xml",
        "data/queue_job_function_data.xml",
        "views/business_rule_views.xml",
        "views/business_rules_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
}
