# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{  # noqa: B018 - an Odoo manifest is a bare dict
    "name": "Semantic Product Description - Sales",
    "summary": "Semantic Search's screens under Sales > Configuration, where a shop's sales managers look",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/odoo-search-lib/odoo-search-lib",
    "author": "Odoo Search Lib contributors",
    "maintainers": ["odoo-search-lib"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": False,
    "installable": True,
    "auto_install": True,
    "depends": ["semantic_product_description", "sale"],
    "data": ["views/semantic_product_description_sale_menus.xml"],
}
