# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.2.2.0: ranking defaults come from the library; attributes with several values are indexed as lists.

Up to 18.0.2.1.0 the addon stored ranking defaults of its own (fusion rrf, RRF k 60, weights 1, 1 and
0.5) instead of the library's tuned ones. When every parameter still holds those values, they are
deleted, so the library's defaults apply; when someone changed one, all stay (logged). The product
index is rebuilt: documents now carry attribute lines with several values as lists, and the keyword
field the attribute filter matches (with its payload index, which only a new collection gets).
"""

import logging

from odoo import SUPERUSER_ID, api

from odoo.addons.semantic_product_description.models.semantic_search_service import PARAM_PREFIX

_logger = logging.getLogger(__name__)

#: The values the addon shipped (data/ir_config_parameter_data.xml and the settings screen's defaults).
OLD_RANKING_DEFAULTS = {"fusion": "rrf", "rrf_k": 60, "weight_dense": 1.0, "weight_bm25": 1.0, "weight_chars": 0.5}


def _same(stored, old):
    """Whether a stored parameter string still holds the old default (``"60"``, ``"60.0"`` and 60 alike)."""
    if isinstance(old, str):
        return stored.strip() == old
    try:
        return float(stored) == old
    except ValueError:
        return False


def reset_old_ranking_defaults(env):
    """Delete the ranking parameters when all still hold the old defaults; returns their keys.

    They were tuned together: when someone changed one (fusion or RRF k, say), the library's
    weights would not fit it, so all stay as they are.
    """
    params = env["ir.config_parameter"].sudo()
    records = {key: params.search([("key", "=", PARAM_PREFIX + key)]) for key in OLD_RANKING_DEFAULTS}
    changed = [
        key for key, record in records.items() if record and not _same(record.value or "", OLD_RANKING_DEFAULTS[key])
    ]
    if changed:
        _logger.info(
            "Upgrade of %s: the ranking parameters stay as they are (%s changed); the library's defaults "
            "apply to none of them",
            env.cr.dbname,
            ", ".join(changed),
        )
        return []
    reset = [key for key, record in records.items() if record]
    for key in reset:
        records[key].unlink()
    if reset:
        _logger.info("Upgrade of %s: the library's ranking defaults now apply to %s", env.cr.dbname, ", ".join(reset))
    return reset


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    reset_old_ranking_defaults(env)
    env["semantic.reindex.run"]._request("product")
