# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Business rules in the semantic search facade: records to library rules, sync, search."""

import time
import weakref
from datetime import timezone

from odoo import api, models

from odoo_search_lib import DocumentError
from odoo_search_lib.assistant import IndexRules
from odoo_search_lib.rules import RuleIndex, rule_from_dict

RULE_DOC_PREFIX = "business.rule,"
RULE_MODEL = "business.rule"

# One RuleIndex per open product index (same store and embedder); dropped with it when the
# search registry reopens a database's store after a settings change.
_rule_indexes = weakref.WeakKeyDictionary()


class SemanticSearchService(models.AbstractModel):
    _inherit = "semantic.search.service"

    @api.model
    def _get_rule_index(self):
        """The rule index of this database: the products' store and embedder, kind ``rule``."""
        products = self._get_index()
        index = _rule_indexes.get(products)
        if index is None:
            index = _rule_indexes[products] = RuleIndex(
                products.settings, embedder=products.embedder, store=products.store, tz=timezone.utc
            )
        return index

    @api.model
    def _rule_doc_id(self, res_id):
        return f"{RULE_DOC_PREFIX}{int(res_id)}"

    @api.model
    def _parse_rule_doc_id(self, doc_id):
        if not isinstance(doc_id, str) or not doc_id.startswith(RULE_DOC_PREFIX):
            return None
        try:
            return int(doc_id[len(RULE_DOC_PREFIX) :])
        except ValueError:
            return None

    @api.model
    def _rule_data(self, rule):
        """The library's import format for one ``business.rule`` (datetimes are UTC in Odoo)."""

        def moment(value):
            return value.replace(tzinfo=timezone.utc).isoformat() if value else None

        return {
            "id": self._rule_doc_id(rule.id),
            "type": rule.rule_type,
            "title": rule.name or "",
            "content": rule.content or "",
            "question": rule.question or "",
            "valid_from": moment(rule.valid_from),
            "valid_to": moment(rule.valid_to),
            "products": [self._product_doc_id(product.id) for product in rule.product_ids],
            "categories": [self._category_path(category) for category in rule.categ_ids],
            "company_id": rule.company_id.id or None,
            "coupon_code": rule.coupon_code or "",
            "priority": rule.priority,
            "tags": [tag.name for tag in rule.tag_ids if tag.name],
        }

    @api.model
    def _rule_library_objects(self, ids):
        """``(rules, excluded ids, {id: error}, gone ids)`` for business.rule ids."""
        ids = set(ids)
        records = (
            self.env[RULE_MODEL]
            .sudo()
            .with_context(active_test=False, lang=self._search_lang())
            .browse(sorted(ids))
            .exists()
        )
        rules, excluded, errors = [], [], {}
        for record in records:
            if not record.active:
                excluded.append(record.id)
                continue
            try:
                rules.append(rule_from_dict(self._rule_data(record)))
            except DocumentError as exc:
                errors[record.id] = str(exc)
        return rules, excluded, errors, ids - set(records.ids)

    @api.model
    def _sync_rules(self, ids):
        """Make the rule index match these rules as they are now; ``{res_id: error}`` for bad ones."""
        rules, excluded, errors, gone = self._rule_library_objects(ids)
        index = self._get_rule_index()
        if rules:
            index.upsert(rules)
        stale = sorted(gone | set(excluded) | set(errors))
        if stale:
            index.delete([self._rule_doc_id(res_id) for res_id in stale])
        self._record_rule_states(rules, excluded, errors, gone)
        return errors

    @api.model
    def _record_rule_states(self, rules, excluded, errors, gone):
        State = self.env["semantic.index.state"]
        State._record(RULE_MODEL, [self._parse_rule_doc_id(rule.id) for rule in rules], "indexed")
        State._record(RULE_MODEL, excluded, "excluded")
        for res_id, error in errors.items():
            State._record(RULE_MODEL, [res_id], "error", error)
        State._forget(RULE_MODEL, list(gone))

    @api.model
    def sync_all_rules(self):
        """Rebuild the rule index from every rule of the database (idempotent).

        Returns ``{"indexed", "removed", "took_ms"}``: ``removed`` counts rules that were in the
        index and are no longer (archived or deleted). Store errors are raised.
        """
        started = time.perf_counter()
        all_ids = self.env[RULE_MODEL].sudo().with_context(active_test=False).search([]).ids
        previous = set(self._indexed_rule_ids())
        rules, excluded, errors, gone = self._rule_library_objects(all_ids)
        self._get_rule_index().reindex(rules, total=len(rules))
        self._record_rule_states(rules, excluded, errors, gone)
        indexed = {self._parse_rule_doc_id(rule.id) for rule in rules}
        self.env["semantic.index.state"]._forget(RULE_MODEL, sorted(previous - set(all_ids)))
        return {
            "indexed": len(indexed),
            "removed": len(previous - indexed),
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
        }

    @api.model
    def _indexed_rule_ids(self):
        self.env.cr.execute(
            "SELECT res_id FROM semantic_index_state WHERE res_model = %s AND state = 'indexed'", [RULE_MODEL]
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _job_sync_all_rules(self):
        """Job (channel root.semantic.index): a full rule sync that could not run when it was asked for."""
        with self._retry_on_outage():
            counts = self.sync_all_rules()
        return "indexed {indexed}, removed {removed}".format(**counts)

    @api.model
    def search_rules(self, query, *, at=None, types=None, limit=None, include_inactive=False, company_ids=None):
        """Rules answering ``query`` that are valid at ``at`` (default now); library errors are raised."""
        return self._get_rule_index().search(
            query, at=at, types=types, limit=limit, include_inactive=include_inactive, company_ids=company_ids
        )

    @api.model
    def _assistant_rules_port(self, company):
        """The Chatwoot assistant's rules port: the company's active rules (and shared ones), searched in the
        rule index; the library's adapter checks validity and scores confidence."""
        domain = [("company_id", "in", [company.id, False])]
        ids = self.env[RULE_MODEL].sudo().search(domain).ids
        rules, _excluded, _errors, _gone = self._rule_library_objects(ids)
        return IndexRules(self._get_rule_index(), rules)
