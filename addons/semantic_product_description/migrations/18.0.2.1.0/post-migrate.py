# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.2.1.0: the store's tenant is the database name and the start of its ``database.uuid``.

It was the name alone, which a copy restored under the same name shared with production on a
Qdrant server. The index is rebuilt under the new tenant and the old tenant's collections are
dropped; until the rebuild is published searches answer "index not built" (a few minutes at the
embedder's speed). Rules re-index through ``business_rules``' own migration.
"""

import dataclasses
import logging

from odoo import SUPERUSER_ID, api

from odoo.addons.semantic_product_description import search_registry
from odoo.addons.semantic_product_description.hooks import _drop_tenant_collections

_logger = logging.getLogger(__name__)


def move_to_uuid_tenant(env):
    """Drop the collections named after the database alone and queue the rebuild under the new tenant."""
    dbname = env.cr.dbname
    try:
        settings = env["semantic.search.service"]._get_settings()
    except Exception as exc:  # noqa: BLE001 - unreadable settings must not block the upgrade
        _logger.warning("Upgrade of %s: settings unreadable (%s); the old index stays", dbname, exc)
    else:
        if settings.tenant != dbname:
            search_registry.close(dbname)  # the embedded store serves one opener per process
            _drop_tenant_collections(dataclasses.replace(settings, tenant=dbname), dbname)
    env["semantic.reindex.run"]._request("product")


def migrate(cr, version):
    if not version:
        return
    move_to_uuid_tenant(api.Environment(cr, SUPERUSER_ID, {}))
