# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{  # noqa: B018 - an Odoo manifest is a bare dict
    "name": "Semantic Product Description - eCommerce",
    "summary": "The shop's product search (/shop?search=...) runs the hybrid search: typo-tolerant, "
    "synonym-aware, best match first",
    "version": "18.0.1.1.0",
    "category": "Website/Website",
    "website": "https://github.com/odoo-search-lib/odoo-search-lib",
    "author": "Odoo Search Lib contributors",
    "maintainers": ["odoo-search-lib"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": False,
    "installable": True,
    "auto_install": True,
    "depends": ["semantic_product_description", "website_sale"],
    "data": ["views/templates.xml"],
    "external_dependencies": {"python": ["odoo-search-lib>=0.2.0,<0.3"]},
}
