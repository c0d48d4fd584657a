# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The database's own synonym sets, applied by the product search at query time (no reindex)."""

import logging

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

from odoo_search_lib import ConfigError, Synonyms, SynonymSet
from odoo_search_lib.synonyms import MAX_SETS, MAX_TERM_CHARS, MAX_TERMS_PER_SET

_logger = logging.getLogger(__name__)


def _valid(sets, language):
    """Whether the library accepts ``sets`` in ``language`` (what ``SearchIndex.set_synonyms`` checks)."""
    try:
        Synonyms.build(sets, language, builtin=False)
    except ConfigError:
        return False
    return True


def _label(synonym_set):
    """A set as its form shows it: "root -> a, b" or "a, b"."""
    terms = ", ".join(synonym_set.synonyms)
    return f"{synonym_set.root} -> {terms}" if synonym_set.root else terms


class SemanticSynonym(models.Model):
    _name = "semantic.synonym"
    _description = "Semantic Search Synonym Set"
    _order = "root, name, id"

    name = fields.Char(
        "Synonyms",
        required=True,
        help="Comma-separated words or phrases that mean the same, e.g. 'fridge, refrigerator'. "
        "Without a root, a search for any of them also finds the others.",
    )
    root = fields.Char(
        help="Makes the set one-way: a search for the root also finds the synonyms, a search for a synonym "
        "does not find the root's products. For a general term and its kinds, e.g. 'footwear' -> 'sneakers, boots'.",
    )
    active = fields.Boolean(default=True)

    @api.constrains("name", "root", "active")
    def _check_synonyms(self):
        service = self.env["semantic.search.service"]
        language = service._get_param("language") or service._default_language()
        for record in self.filtered("active"):
            try:
                Synonyms.build([record._synonym_set()], language, builtin=False)
            except ConfigError as exc:
                raise ValidationError(self._validation_message(exc, record)) from None
        if self.search_count([]) > MAX_SETS:
            raise ValidationError(self.env._("At most %(max)s synonym sets can be active.", max=MAX_SETS))

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self._clear_sets_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self._clear_sets_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self._clear_sets_cache()
        return result

    def _clear_sets_cache(self):
        """_get_sets: every worker reads the sets again, now and once the change is committed.

        Clearing now only would let a search in another thread, between now and the commit, cache
        the old sets again (it cannot see the change yet) until the next change.
        """
        self.env.registry.clear_cache()
        self.env.cr.postcommit.add(self.env.registry.clear_cache)

    def _synonym_set(self):
        """This record as the library's :class:`SynonymSet` (the terms split on commas)."""
        self.ensure_one()
        terms = [term.strip() for term in (self.name or "").split(",") if term.strip()]
        return SynonymSet(tuple(terms), (self.root or "").strip() or None)

    @api.model
    @tools.ormcache("language")
    def _get_sets(self, language):
        """The active sets of this database valid in ``language``, cached until a set changes (in any worker).

        A set saved under another search language can be invalid in this one ("lata, can": "can" is an
        English stopword): it is skipped with a warning naming it, and the other sets, and every
        search, still work.
        """
        sets = tuple(record._synonym_set() for record in self.sudo().search([]))
        if _valid(sets, language):
            return sets
        valid = tuple(synonym_set for synonym_set in sets if _valid((synonym_set,), language))
        if not _valid(valid, language):  # valid one by one, not together: none applies
            valid = ()
        _logger.warning(
            "Synonym sets skipped, they are not valid in the search language %r (edit them under Semantic "
            "Search > Synonyms): %s",
            language,
            "; ".join(repr(_label(synonym_set)) for synonym_set in sets if synonym_set not in valid),
        )
        return valid

    def _validation_message(self, exc, record):
        """The library's error code as a sentence for the form."""
        messages = {
            "empty_synonym_set": self.env._(
                "Enter at least two different synonyms separated by commas, or a root and one synonym."
            ),
            "empty_synonym": self.env._(
                "Each synonym needs a word that can be searched (not only words such as 'de' or 'the')."
            ),
            "synonym_too_long": self.env._(
                "Each synonym may have at most %(chars)s characters and 6 words.", chars=MAX_TERM_CHARS
            ),
            "too_many_synonyms": self.env._("A set may have at most %(max)s synonyms.", max=MAX_TERMS_PER_SET),
        }
        message = messages.get(exc.code) or str(exc)
        return self.env._("Synonym set '%(name)s': %(message)s", name=record.name, message=message)
