# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request
from odoo.tools import SQL, split_every

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import identity_exact

from odoo_search_lib import LLMError, SearchLibError
from odoo_search_lib.confidence import without_padding
from odoo_search_lib.webhooks import (
    EVENT_PRODUCT_CREATED,
    EVENT_PRODUCT_DELETED,
    EVENT_PRODUCT_DESCRIPTION_GENERATED,
    EVENT_PRODUCT_UPDATED,
)

#: Products per sync job: a bulk edit becomes a few jobs, each well under a second of work.
SYNC_CHUNK_SIZE = 200


class ProductTemplate(models.Model):
    _inherit = "product.template"

    semantic_description = fields.Text(
        help="Rich description used by the semantic search (and shown to customers by the assistant). "
        "Generate it from the product's facts, then edit it freely.",
    )
    semantic_keywords = fields.Char(help="Comma-separated search keywords that go with the semantic description.")
    semantic_description_source = fields.Selection(
        selection=[("template", "Template writer"), ("llm", "Language model"), ("manual", "Manual")],
        string="Description Source",
        help="How the semantic description was written; editing the text by hand sets it to Manual.",
    )
    semantic_index_state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("indexed", "Indexed"),
            ("excluded", "Not indexed"),
            ("error", "Error"),
        ],
        string="Search Index",
        compute="_compute_semantic_index_state",
        search="_search_semantic_index_state",
        help="Pending: a sync job waits for this product. Not indexed: archived or not for sale. "
        "Error: the last sync job failed (see Last Index Error).",
    )
    semantic_indexed_at = fields.Datetime(string="Last Indexed", compute="_compute_semantic_index_state")
    semantic_index_error = fields.Text(string="Last Index Error", compute="_compute_semantic_index_state")
    # only searched: the product list's "Semantic search" entry (see _search for the relevance order)
    semantic_search = fields.Char(
        string="Semantic search",
        compute="_compute_semantic_search",
        search="_search_semantic_search",
        help="Finds products by meaning, synonyms and misspellings with the hybrid search index, best match first.",
    )

    def _compute_semantic_index_state(self):
        """From the jobs still waiting (queue_job's table) and what the last job did (semantic.index.state)."""
        ids = [product.id for product in self if product.id]
        states = self.env["semantic.index.state"].sudo()._read_states(self._name, ids)
        waiting, failed = self.env["semantic.search.service"]._pending_sync_ids(self._name) if ids else ((), {})
        for product in self:
            state, synced_at, indexed_at, error = states.get(product.id, (False, False, False, False))
            failure = failed.get(product.id)
            if failure and (not synced_at or failure[0] >= synced_at):
                state, error = "error", failure[1]
            if product.id in waiting or not state:
                state = "pending"
            product.semantic_index_state = state
            product.semantic_indexed_at = indexed_at
            product.semantic_index_error = error or False

    def _search_semantic_index_state(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        wanted = {value} if operator == "=" else set(value)
        waiting, failed = self.env["semantic.search.service"]._pending_sync_ids(self._name)
        self.env.cr.execute("SELECT res_id, state FROM semantic_index_state WHERE res_model = %s", [self._name])
        stored = dict(self.env.cr.fetchall())
        ids = {res_id for res_id, state in stored.items() if state in wanted and res_id not in waiting}
        if "error" in wanted:
            ids |= set(failed) - waiting
        if "pending" in wanted:
            ids |= waiting
            return ["|", ("id", "in", list(ids)), ("id", "not in", list(stored))]
        return [("id", "in", list(ids))]

    def _compute_semantic_search(self):
        self.semantic_search = False

    def _search_semantic_search(self, operator, value):
        """The products the hybrid index ranks for ``value`` (a leaf nested where _search cannot see it)."""
        query = self._semantic_search_query(operator, value)
        with self.env["semantic.search.service"]._user_errors():
            return [("id", "in", self._semantic_ranked_ids(query))]

    @api.model
    def _semantic_search_query(self, operator, value):
        if operator not in ("ilike", "=", "like") or not isinstance(value, str) or not value.strip():
            raise UserError(self.env._("Semantic search needs words to search for, such as 'black t-shirt'."))
        return value

    @api.model
    def _semantic_ranked_ids(self, query, filters=None, limit=None):
        """Template ids the hybrid index finds for ``query``, best first.

        At most ``limit`` candidates (default: the "Maximum Results per Query" setting), of the
        request's companies (and shared ones), without the padding a list should not show (hits far less confident than
        the best one, or below the floor: ``odoo_search_lib.confidence.without_padding``). The
        caller's domain then leaves out archived products and the records the user may not read.
        Library errors are raised as they are. Kept on the HTTP request: a list page searches and
        then counts with the same domain, and asks the index once.
        """
        memo = self._semantic_request_memo("semantic_rankings")
        key = (query, filters, limit, tuple(self.env.companies.ids), self.env.uid)
        if key not in memo:
            memo[key] = self._semantic_ask(query, filters, limit)
        return memo[key]

    @api.model
    def _semantic_request_memo(self, name):
        """A dict named ``name`` living as long as the current HTTP request (a fresh one outside requests)."""
        if not request:
            return {}
        memo = getattr(request, name, None)
        if memo is None:
            memo = {}
            setattr(request, name, memo)
        return memo

    @api.model
    def _semantic_ask(self, query, filters, limit):
        service = self.env["semantic.search.service"]
        result = service.search_products(
            query,
            limit=limit or service._get_param_int("search_max_limit", minimum=1),
            filters=filters,
            company_ids=self.env.companies.ids,
        )
        ids = (service._parse_product_doc_id(hit.id) for hit in without_padding(result.hits))
        return list(dict.fromkeys(res_id for res_id in ids if res_id))

    @api.model
    def _semantic_rewrite_domain(self, domain, field_name="id"):
        """``(domain, ranking)``: each top-level ``semantic_search`` leaf of ``domain`` replaced by
        ``(field_name, "in", the ranked template ids)``; ``ranking`` is the first leaf's ids, best
        first (``None``: no such leaf, ``domain`` is returned as it is)."""
        leaves = [leaf for leaf in domain or () if isinstance(leaf, list | tuple) and leaf[0] == "semantic_search"]
        if not leaves:
            return domain, None
        rankings = {}
        with self.env["semantic.search.service"]._user_errors():
            for leaf in leaves:
                query = self._semantic_search_query(leaf[1], leaf[2])
                if query not in rankings:
                    rankings[query] = self._semantic_ranked_ids(query)
        rewritten = [
            (field_name, "in", rankings[leaf[2]])
            if isinstance(leaf, list | tuple) and leaf[0] == "semantic_search"
            else leaf
            for leaf in domain
        ]
        return rewritten, rankings[leaves[0][2]]

    @api.model
    def _semantic_rank_order(self, query, ranking, column):
        """Order ``query`` by ``ranking`` (template ids, best first) of its ``column``."""
        query.order = SQL(
            "array_position(%s::int[], %s), %s",
            ranking,
            SQL.identifier(query.table, column),
            SQL.identifier(query.table, "id"),
        )
        return query

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """A ``semantic_search`` leaf becomes the ids the index ranks, listed in rank order.

        Rank order applies when the caller asks for the default order (``search`` and the list and
        kanban views without a sort); another order (a list column the user clicked) wins, and
        counts are not ordered.
        """
        domain, ranking = self._semantic_rewrite_domain(domain)
        if ranking is None or order != self._order:
            return super()._search(domain, offset=offset, limit=limit, order=order)
        return self._semantic_rank_order(super()._search(domain, offset=offset, limit=limit), ranking, "id")

    # ------------------------------------------------------------------
    # Which changes reach the search index
    # ------------------------------------------------------------------

    @api.model
    def _semantic_search_fields(self):
        """Fields whose change must re-index the product (optional modules' fields when installed)."""
        names = {
            "name",
            "description_sale",
            "categ_id",
            "list_price",
            "currency_id",
            "attribute_line_ids",
            "product_tag_ids",
            "active",
            "sale_ok",
            "company_id",
            "default_code",
            "semantic_description",
            "semantic_keywords",
            "is_published",
            "website_published",
            "website_description",
            "website_id",
        }
        return {name for name in names if name in self._fields}

    def _semantic_enqueue(self):
        """Queue a sync job for these products, in the current transaction (it runs after the commit).

        A job makes the index match the products as they are when it runs (indexed, or removed
        when archived, not for sale or deleted), so one job kind serves every change; repeated
        edits of the same products coalesce while the job waits (identity key). A small write
        (a person's edit) goes before the chunks of big ones.
        """
        if not self or self.env.context.get("semantic_search_no_enqueue"):
            return
        priority = self.env["semantic.search.service"]._sync_job_priority(len(self))
        for chunk in split_every(SYNC_CHUNK_SIZE, sorted(self.ids)):
            self.browse(chunk).sudo().with_delay(
                description=self.env._("Semantic search: sync %(count)s product(s)", count=len(chunk)),
                identity_key=identity_exact,
                priority=priority,
            )._semantic_job_sync()

    @api.model
    def _semantic_enqueue_matching(self, domain, reason):
        """Queue one job that finds the products of ``domain`` and queues their syncs and
        ``product.updated``: a category subtree or a company's catalogue can be thousands of
        products, too many to search and enqueue in the user's transaction."""
        if self.env.context.get("semantic_search_no_enqueue"):
            return
        self.sudo().with_delay(
            description=self.env._("Semantic search: products affected by %(reason)s", reason=reason),
            identity_key=identity_exact,
        )._semantic_job_fan_out(domain)

    @api.model
    def _semantic_job_fan_out(self, domain):
        """Job (channel root.semantic.index): queue the syncs and ``product.updated`` of ``domain``'s products."""
        templates = self.sudo().with_context(active_test=False).search(domain)
        templates._semantic_enqueue()
        templates._semantic_webhook_enqueue(EVENT_PRODUCT_UPDATED)
        return f"queued {len(templates)} product(s)"

    def _semantic_job_sync(self):
        """Job (channel root.semantic.index): make the index match these products as they are now."""
        service = self.env["semantic.search.service"]
        with service._retry_on_outage():
            errors = service._sync_products(self.ids)
        return f"synced {len(self.ids)} product(s), {len(errors)} cannot be indexed"

    @api.model
    def _semantic_webhook_fields(self):
        """Fields whose change sends ``product.updated`` (the ones in the event's data)."""
        names = {
            "name",
            "default_code",
            "list_price",
            "currency_id",
            "categ_id",
            "company_id",
            "active",
            "sale_ok",
            "description_sale",
            "semantic_description",
            "semantic_keywords",
        }
        return {name for name in names if name in self._fields}

    def _semantic_webhook_enqueue(self, event_type):
        """Queue ``event_type`` for the endpoints subscribed to it, in the current transaction."""
        if not self or self.env.context.get("semantic_webhook_no_enqueue"):
            return
        if event_type == EVENT_PRODUCT_UPDATED and self.env.context.get("semantic_webhook_creating"):
            return  # values core writes back while creating belong to product.created
        self.env["semantic.webhook.delivery"]._enqueue_product_event(event_type, self)

    @api.model_create_multi
    def create(self, vals_list):
        # core writes the variant values (reference, barcode...) back with write() during create
        records = super(ProductTemplate, self.with_context(semantic_webhook_creating=True)).create(vals_list)
        records = records.with_env(self.env)
        records._semantic_enqueue()
        records._semantic_webhook_enqueue(EVENT_PRODUCT_CREATED)
        return records

    def write(self, vals):
        if "semantic_description" in vals and "semantic_description_source" not in vals:
            vals = dict(vals, semantic_description_source="manual" if vals["semantic_description"] else False)
        relevant = bool(self._semantic_search_fields() & set(vals))
        webhook_relevant = bool(self._semantic_webhook_fields() & set(vals))
        result = super().write(vals)
        if relevant:
            self._semantic_enqueue()
        if webhook_relevant:
            self._semantic_webhook_enqueue(self.env.context.get("semantic_webhook_event") or EVENT_PRODUCT_UPDATED)
        return result

    def update_field_translations(self, field_name, translations, source_lang=None):
        # the translation dialog writes translations without write(): the index and the
        # webhooks must hear of it all the same
        result = super().update_field_translations(field_name, translations, source_lang=source_lang)
        if field_name in self._semantic_search_fields():
            self._semantic_enqueue()
        if field_name in self._semantic_webhook_fields():
            self._semantic_webhook_enqueue(EVENT_PRODUCT_UPDATED)
        return result

    def unlink(self):
        self._semantic_enqueue()
        self._semantic_webhook_enqueue(EVENT_PRODUCT_DELETED)
        return super().unlink()

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_generate_semantic_description(self):
        """Header button: write a description from the product's facts.

        The template writer saves at once. The LLM writer saves at once only
        when its fact check is clean; otherwise a wizard shows the proposal and
        what the check flagged. A failing LLM raises a UserError and changes nothing.
        """
        self.ensure_one()
        self._semantic_check_user()
        self.check_access("write")
        service = self.env["semantic.search.service"]
        try:
            description = service.generate_description(self)
        except SearchLibError as exc:
            raise service._user_error(exc) from None
        if description.source == "llm" and description.findings:
            return self.env["semantic.description.wizard"]._open_for(self, description)
        self._semantic_apply_description(description)
        return True

    def action_generate_semantic_descriptions(self):
        """Server action on many products: describe a few now, queue one job per remaining product."""
        self._semantic_check_user()
        records = self.filtered("id")
        records.check_access("write")
        service = self.env["semantic.search.service"]
        sync_limit = service._get_param_int("describe_sync_limit", minimum=0)
        if (service._get_param("description_writer") or "template") == "llm":
            sync_limit = 0  # a language model takes seconds per product: never inside the request
        now, later = records[:sync_limit], records[sync_limit:]
        to_review = self.browse()
        for record in now:
            try:
                description = service.generate_description(record)
            except SearchLibError as exc:
                raise service._user_error(exc) from None
            if description.source == "llm" and description.findings:
                record._semantic_post_review(description)
                to_review |= record
            else:
                record._semantic_apply_description(description)
        for record in later:
            record.sudo().with_delay(
                description=self.env._("Semantic search: describe %(name)s", name=record.display_name),
                identity_key=identity_exact,
            )._semantic_job_describe(self.env.uid)
        message = self.env._(
            "%(done)s descriptions written, %(review)s to review in the chatter, %(queued)s queued.",
            done=len(now) - len(to_review),
            review=len(to_review),
            queued=len(later),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Semantic descriptions"),
                "message": message,
                "type": "success" if not to_review else "warning",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------

    def _semantic_job_describe(self, requested_by):
        """Job (channel root.semantic.describe): write this product's description.

        A proposal whose fact check flagged something goes to the chatter, unsaved. An LLM that
        does not answer postpones the job (retry pattern); any other library error fails it.
        """
        self.ensure_one()
        product = self.exists()
        if not product:
            return "skipped: the product was deleted"
        service = self.env["semantic.search.service"]
        author = self.env["res.users"].sudo().browse(requested_by).exists()
        try:
            description = service.generate_description(product)
        except LLMError as exc:
            raise RetryableJobError(str(exc)) from exc
        if description.source == "llm" and description.findings:
            product._semantic_post_review(description, author=author or None)
            return "proposal posted for review"
        product._semantic_apply_description(description, author=author or None)
        return "description written"

    def _semantic_check_user(self):
        if not self.env.user.has_group("semantic_product_description.semantic_product_description_group_user"):
            raise AccessError(self.env._("Only Semantic Search users may generate semantic descriptions."))

    def _semantic_writer_label(self, description):
        """The writer as named inside a sentence (the field's selection labels are capitalised values)."""
        return {
            "template": self.env._("the template writer"),
            "llm": self.env._("the language model"),
            "manual": self.env._("a manual edit"),
        }.get(description.source, description.source)

    def _semantic_language_name(self, code):
        """The name of a writer's language ("Portuguese (BR)") for a chatter note; the code if not installed."""
        return dict(self.env["res.lang"].get_installed()).get(code, code)

    def _semantic_finding_labels(self):
        """The fact check's finding kinds (``odoo_search_lib.enrich.FindingKind``) in the user's language."""
        return {
            "number": self.env._("number"),
            "price": self.env._("price"),
            "measure": self.env._("measure"),
            "attribute": self.env._("attribute"),
            "colour": self.env._("colour"),
            "material": self.env._("material"),
            "brand": self.env._("brand"),
            "certification": self.env._("certification"),
        }

    def _semantic_findings_html(self, findings):
        if not findings:
            return Markup("<p>%s</p>") % self.env._("Fact check: nothing flagged.")
        labels = self._semantic_finding_labels()
        items = Markup("").join(
            Markup("<li><b>%s</b> (%s): %s</li>")  # the excerpt marks its own cuts with …
            % (finding.value, labels.get(finding.kind, finding.kind), finding.excerpt)
            for finding in findings
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Fact check: %(count)s value(s) not found in the product's facts:", count=len(findings)),
            items,
        )

    def _semantic_apply_description(self, description, author=None, accepted_findings=False):
        """Save a description and record in the chatter who generated it, how, and what the check found."""
        self.ensure_one()
        # webhooks: a generation is announced as such, not as a plain product.updated
        self.with_context(semantic_webhook_event=EVENT_PRODUCT_DESCRIPTION_GENERATED).write(
            {
                "semantic_description": description.text,
                "semantic_keywords": ", ".join(description.keywords),
                "semantic_description_source": description.source,
            }
        )
        intro = self.env._(
            "Semantic description generated with %(writer)s (%(language)s).",
            writer=self._semantic_writer_label(description),
            language=self._semantic_language_name(description.language),
        )
        body = Markup("<p>%s</p>") % intro
        if accepted_findings:
            body += Markup("<p>%s</p>") % self.env._("The user accepted it despite the fact check below.")
        body += self._semantic_findings_html(description.findings)
        self.message_post(
            body=body,
            author_id=(author or self.env.user).partner_id.id,
            subtype_xmlid="mail.mt_note",
        )

    def _semantic_post_review(self, description, author=None):
        """Post an unsaved proposal whose fact check flagged something (batch mode cannot ask)."""
        self.ensure_one()
        body = Markup("<p>%s</p><blockquote>%s</blockquote>") % (
            self.env._(
                "Proposed semantic description (%(writer)s, %(language)s), NOT saved: review the fact check, "
                "then copy it or generate again.",
                writer=self._semantic_writer_label(description),
                language=self._semantic_language_name(description.language),
            ),
            description.text,
        )
        body += self._semantic_findings_html(description.findings)
        self.message_post(body=body, author_id=(author or self.env.user).partner_id.id, subtype_xmlid="mail.mt_note")
