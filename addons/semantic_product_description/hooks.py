# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import os
import re
import shutil

from odoo_search_lib.rules import RULE_KIND
from odoo_search_lib.store import open_store

from . import search_registry

_logger = logging.getLogger(__name__)


def post_init_hook(env):
    """Index the products that existed before the module: one chunked rebuild, run by queue_job."""
    env["semantic.reindex.run"]._request("product")


def uninstall_hook(env):
    """Leave nothing behind: this database's collections, its embedded store directory, its settings
    and secrets. Odoo's uninstall dialog (which lists what goes) is the administrator's confirmation.

    Only this tenant's collections are dropped (a Qdrant server may hold other databases'); the
    store is closed in this process first. Other processes that still have it open (a second node)
    lose their index at their next search, which answers ``index_not_built`` until reinstalled.
    """
    dbname = env.cr.dbname
    service = env["semantic.search.service"]
    try:
        settings = service._get_settings()
    except Exception as exc:  # noqa: BLE001 - broken settings must not block an uninstall
        _logger.warning("Uninstall of %s: settings unreadable (%s); its index data stays", dbname, exc)
        settings = None
    search_registry.close(dbname)
    if settings is not None:
        _drop_tenant_collections(settings, dbname)
        default_path = service._default_store_path(dbname)
        if settings.store.backend == "edge" and os.path.abspath(settings.store.path) == os.path.abspath(default_path):
            shutil.rmtree(default_path, ignore_errors=True)
    env.cr.execute("DELETE FROM ir_config_parameter WHERE key LIKE %s", ["semantic\\_product\\_description.%"])


def _drop_tenant_collections(settings, dbname):
    """Drop the collections of ``settings.tenant`` only: ``<prefix>_<tenant>_<kind>_<fingerprint>_<ms>_<hex>``
    (a fingerprint has no ``_``), so neither a tenant whose name starts like this one's nor a copy of
    this database (another uuid) loses anything."""
    tenant = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{settings.store.prefix}_{settings.tenant}_")
    mine = re.compile(re.escape(tenant) + "(?:product|" + re.escape(RULE_KIND) + r")_[A-Za-z0-9.-]+_\d+_[0-9a-f]+")
    try:
        store = open_store(settings.store)
    except Exception as exc:  # noqa: BLE001 - an unreachable Qdrant must not block an uninstall
        _logger.warning("Uninstall of %s: search store unreachable (%s); its collections stay", dbname, exc)
        return
    try:
        dropped = [name for name in store.list_collections() if mine.fullmatch(name)]
        for name in dropped:
            store.drop_collection(name)
        _logger.info("Uninstall of %s: dropped %d search collections", dbname, len(dropped))
    finally:
        store.close()
