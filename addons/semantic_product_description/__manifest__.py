# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{  # noqa: B018 - an Odoo manifest is a bare dict
    "name": "Semantic Product Description",
    "summary": "Generate semantic product descriptions and search the catalogue "
    "with hybrid (dense + BM25) search, kept in sync through an outbox",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/odoo-search-lib/odoo-search-lib",
    "author": "Odoo Search Lib contributors",
    "maintainers": ["odoo-search-lib"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": False,
    "installable": True,
    "depends": ["product", "mail"],
    "external_dependencies": {"python": ["odoo_search_lib"]},
    "data": [
        "security/semantic_product_description_groups.xml",
        "security/ir.model.access.csv",
        "security/semantic_outbox_security.xml",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_actions_server_data.xml",
        "views/product_template_views.xml",
        "views/semantic_outbox_views.xml",
        "views/res_config_settings_views.xml",
        "wizards/semantic_description_wizard_views.xml",
        "views/semantic_product_description_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
}
