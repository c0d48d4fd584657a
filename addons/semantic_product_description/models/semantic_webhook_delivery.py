# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery log of outgoing webhooks, and the sending itself.

A delivery is written in the transaction of the change that caused it (one SQL
statement for every endpoint and product of the change), with its exact JSON
body (built once: every retry sends the same bytes) and its ``webhook-id``
(generated once: receivers dedupe on it). Each delivery has a ``webhook`` job
in the outbox, whose cron claims jobs with ``FOR UPDATE SKIP LOCKED`` and calls
:meth:`SemanticWebhookDelivery._process_outbox_jobs`. That method POSTs the
bodies from a small thread pool (the threads only run the library's
``deliver()``: every ORM write happens back in the cron thread) and schedules
retries on the library's Standard Webhooks schedule. Signing, the SSRF guard
and the schedule live in ``odoo_search_lib.webhooks``.

Delivery is at least once: a crash after a successful POST and before the
commit sends the same body again, with the same ``webhook-id``.
"""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor, wait

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo_search_lib import InvalidInputError, SearchLibError, UnsafeURLError, WebhookVerificationError
from odoo_search_lib.webhooks import (
    RETRY_SCHEDULE,
    DeliveryResult,
    build_payload,
    deliver,
    next_retry_delay,
    truncate_for_log,
)

_logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 1000
#: States in which a delivery still waits for an attempt.
OPEN_STATES = ("pending", "failed")
#: A delivery the time budget of its batch did not reach: it stays due, untouched.
_DEFERRED = object()

# One statement writes the deliveries and their outbox jobs. A delivery that was
# never attempted takes the newer body of the same record/endpoint/event instead
# of a second delivery, unless a drainer holds it (SKIP LOCKED: a product write
# never waits for an HTTP call); archived endpoints are skipped.
_INSERT_QUERY = """
    WITH incoming (delivery_id, job_id, endpoint_id, company_id, event_type, res_model, res_id,
                   webhook_id, payload, is_test, redelivery_of_id, can_coalesce) AS (
        VALUES %(values)s
    ),
    live AS (
        SELECT incoming.*
          FROM incoming
          JOIN semantic_webhook_endpoint endpoint ON endpoint.id = incoming.endpoint_id
         WHERE endpoint.active
    ),
    coalesced AS (
        SELECT live.delivery_id AS incoming_id, target.id, live.payload
          FROM live
         CROSS JOIN LATERAL (
                SELECT delivery.id
                  FROM semantic_webhook_delivery delivery
                 WHERE delivery.endpoint_id = live.endpoint_id
                   AND delivery.event_type = live.event_type
                   AND delivery.res_id = live.res_id
                   AND delivery.res_model = live.res_model
                   AND delivery.state = 'pending' AND delivery.attempts = 0
                   AND delivery.is_test IS NOT TRUE AND delivery.redelivery_of_id IS NULL
                   FOR UPDATE SKIP LOCKED
               ) target
         WHERE live.can_coalesce
    ),
    refreshed AS (
        UPDATE semantic_webhook_delivery delivery
           SET payload = coalesced.payload, write_uid = %(uid)s, write_date = (now() at time zone 'UTC')
          FROM coalesced
         WHERE delivery.id = coalesced.id
     RETURNING delivery.id
    ),
    fresh AS (
        SELECT live.* FROM live WHERE live.delivery_id NOT IN (SELECT incoming_id FROM coalesced)
    ),
    jobs AS (
        INSERT INTO semantic_outbox (id, job_type, res_model, res_id, company_id, state, attempts, max_attempts,
                                     next_attempt_at, create_uid, create_date, write_uid, write_date)
        SELECT job_id, 'webhook', 'semantic.webhook.delivery', delivery_id, company_id, 'pending', 0,
               %(max_attempts)s, (now() at time zone 'UTC'), %(uid)s, (now() at time zone 'UTC'),
               %(uid)s, (now() at time zone 'UTC')
          FROM fresh
    ),
    inserted AS (
        INSERT INTO semantic_webhook_delivery (id, job_id, endpoint_id, company_id, event_type, res_model, res_id,
                                               webhook_id, payload, is_test, redelivery_of_id, state, attempts,
                                               create_uid, create_date, write_uid, write_date)
        SELECT delivery_id, job_id, endpoint_id, company_id, event_type, res_model, res_id,
               webhook_id, payload, is_test, redelivery_of_id, 'pending', 0,
               %(uid)s, (now() at time zone 'UTC'), %(uid)s, (now() at time zone 'UTC')
          FROM fresh
     RETURNING id
    )
    SELECT id FROM inserted
     UNION ALL
    SELECT id FROM refreshed
"""


def new_webhook_id():
    """A Standard Webhooks message id: ``msg_`` + a random UUID (32 hex digits)."""
    return f"msg_{uuid.uuid4().hex}"


def _send(request, allow, timeout):
    """Thread pool task: one ``deliver()`` call; exceptions are returned, not raised."""
    url, secret, body, msg_id, event_type = request
    try:
        return deliver(url, secret, body, msg_id=msg_id, event_type=event_type, allow=allow, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - reported per delivery by the cron thread
        return exc


def _send_group(requests, allow, timeout):
    """Thread pool task: the requests of one record and endpoint, one after the other, in order."""
    return [_send(request, allow, timeout) for request in requests]


def _send_all(requests, keys, *, allow, timeout, workers, budget):
    """POST every request from ``workers`` threads; returns the outcomes in the order of ``requests``.

    Requests with the same key (endpoint and record) are sent in order by one thread, so a
    receiver gets one product's events in the order they happened (within a batch); the rest
    goes in parallel. Groups not started after ``budget`` seconds are ``_DEFERRED``.
    """
    if not requests:
        return []
    groups = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    outcomes = [_DEFERRED] * len(requests)
    with ThreadPoolExecutor(max_workers=min(workers, len(groups)), thread_name_prefix="semantic-webhook") as pool:
        futures = {
            pool.submit(_send_group, [requests[index] for index in indexes], allow, timeout): indexes
            for indexes in groups.values()
        }
        _done, late = wait(futures, timeout=budget)
        for future in late:
            future.cancel()  # only succeeds for groups not started yet; running ones finish
    for future, indexes in futures.items():
        if not future.cancelled():
            for index, outcome in zip(indexes, future.result(), strict=True):
                outcomes[index] = outcome
    return outcomes


class SemanticWebhookDelivery(models.Model):
    _name = "semantic.webhook.delivery"
    _description = "Webhook Delivery"
    _order = "id desc"

    endpoint_id = fields.Many2one(
        "semantic.webhook.endpoint", required=True, index=True, ondelete="cascade", readonly=True
    )
    # few indexes: every product write inserts here (the coalescing index is in init())
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    event_type = fields.Char(required=True, readonly=True)
    webhook_id = fields.Char(
        string="Webhook ID",
        required=True,
        index=True,
        readonly=True,
        help="The webhook-id header: generated once, identical on every retry and redelivery "
        "(receivers use it to drop duplicates).",
    )
    payload = fields.Text(
        required=True, readonly=True, help="The exact JSON body sent, identical on every retry and redelivery."
    )
    res_model = fields.Char(string="Model", readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", readonly=True)
    is_test = fields.Boolean(string="Test", readonly=True)
    redelivery_of_id = fields.Many2one(
        "semantic.webhook.delivery", string="Redelivery Of", readonly=True, ondelete="set null", index="btree_not_null"
    )
    job_id = fields.Many2one(
        "semantic.outbox", string="Outbox Job", readonly=True, ondelete="set null", index="btree_not_null"
    )
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("failed", "Failed (will retry)"),
            ("delivered", "Delivered"),
            ("dead", "Dead"),
            ("disabled", "Disabled"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
        help="Dead: every retry failed, or the URL became unsafe. Disabled: the endpoint answered "
        "410 Gone or was archived.",
    )
    attempts = fields.Integer(readonly=True)
    last_attempt_at = fields.Datetime(string="Last Attempt", readonly=True)
    last_status_code = fields.Integer(string="Last Status", readonly=True, aggregator=False)
    last_error = fields.Text(readonly=True)
    response_excerpt = fields.Text(readonly=True)
    duration_ms = fields.Float(string="Duration (ms)", digits=(16, 1), readonly=True, aggregator=False)
    next_attempt_at = fields.Datetime(
        string="Next Attempt",
        compute="_compute_next_attempt_at",
        inverse="_inverse_next_attempt_at",
        search="_search_next_attempt_at",
        help="When the next attempt is due (its outbox job's schedule).",
    )
    delivered_at = fields.Datetime(readonly=True)

    def init(self):
        # the coalescing lookup of every enqueue: never-attempted deliveries of one record
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS semantic_webhook_delivery_coalesce_idx
                ON semantic_webhook_delivery (endpoint_id, event_type, res_id)
             WHERE state = 'pending' AND attempts = 0 AND is_test IS NOT TRUE AND redelivery_of_id IS NULL
            """
        )

    @api.depends("endpoint_id.name", "event_type")
    def _compute_display_name(self):
        for delivery in self:
            delivery.display_name = f"{delivery.endpoint_id.name}: {delivery.event_type}"

    @api.depends("state", "job_id.state", "job_id.next_attempt_at")
    def _compute_next_attempt_at(self):
        for delivery in self:
            job = delivery.job_id.sudo()
            waiting = delivery.state in OPEN_STATES and job.state in OPEN_STATES
            delivery.next_attempt_at = job.next_attempt_at if waiting else False

    def _inverse_next_attempt_at(self):
        for delivery in self:
            if delivery.job_id and delivery.next_attempt_at and delivery.state in OPEN_STATES:
                delivery.job_id.sudo().next_attempt_at = delivery.next_attempt_at

    def _search_next_attempt_at(self, operator, value):
        return [
            ("state", "in", OPEN_STATES),
            ("job_id.state", "in", OPEN_STATES),
            ("job_id.next_attempt_at", operator, value),
        ]

    # ------------------------------------------------------------------
    # Enqueue
    # ------------------------------------------------------------------

    @api.model
    def _enqueue_product_event(self, event_type, templates):
        """Queue ``event_type`` about ``templates`` for every subscribed endpoint, in this transaction.

        A product of a company goes to that company's endpoints, a shared product to all.
        Costs no query when no endpoint listens. Returns the ids written or refreshed.
        """
        subscriptions = self.env["semantic.webhook.endpoint"]._subscriptions(event_type)
        if not subscriptions or not templates:
            return []
        service = self.env["semantic.search.service"]
        templates = templates.sudo().with_context(active_test=False, lang=service._search_lang())
        rows = []
        for template in templates:
            company_id = template.company_id.id
            targets = [
                (endpoint_id, endpoint_company_id)
                for endpoint_id, endpoint_company_id in subscriptions
                if not company_id or endpoint_company_id == company_id
            ]
            if not targets:
                continue
            body = build_payload(event_type, service._product_webhook_data(template)).decode("utf-8")
            rows.extend(
                {
                    "endpoint_id": endpoint_id,
                    "company_id": endpoint_company_id,
                    "event_type": event_type,
                    "res_model": template._name,
                    "res_id": template.id,
                    "payload": body,
                    "coalesce": True,
                }
                for endpoint_id, endpoint_company_id in targets
            )
        return self._insert(rows)

    @api.model
    def _insert(self, rows):
        """Write deliveries and their outbox jobs in one statement, wake the cron; returns the ids.

        Each row has ``endpoint_id``, ``company_id``, ``event_type``, ``payload`` and optionally
        ``res_model``, ``res_id``, ``webhook_id`` (a new one by default), ``is_test``,
        ``redelivery_of_id`` and ``coalesce`` (refresh a never-attempted delivery of the same
        record, endpoint and event instead of adding one). Rows of archived endpoints are skipped.
        """
        if not rows:
            return []
        Outbox = self.env["semantic.outbox"]
        self.flush_model()
        Outbox.flush_model()
        values = SQL(", ").join(
            SQL(
                "(nextval('semantic_webhook_delivery_id_seq'), nextval('semantic_outbox_id_seq'), %s::int4, "
                "%s::int4, %s::varchar, %s::varchar, %s::int4, %s::varchar, %s::text, %s::bool, %s::int4, %s::bool)",
                row["endpoint_id"],
                row["company_id"],
                row["event_type"],
                row.get("res_model"),
                row.get("res_id"),
                row.get("webhook_id") or new_webhook_id(),
                row["payload"],
                bool(row.get("is_test")),
                row.get("redelivery_of_id"),
                bool(row.get("coalesce")),
            )
            for row in rows
        )
        self.env.cr.execute(SQL(_INSERT_QUERY, values=values, uid=self.env.uid, max_attempts=len(RETRY_SCHEDULE) + 1))
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model()
        Outbox.invalidate_model()
        if ids:
            Outbox._trigger_processing()
        return ids

    # ------------------------------------------------------------------
    # Delivery (outbox handler)
    # ------------------------------------------------------------------

    @api.model
    def _process_outbox_jobs(self, jobs):
        """Outbox handler of ``webhook`` jobs: one attempt per delivery; returns the jobs not done."""
        deliveries = self.sudo().browse(sorted(jobs.mapped("res_id"))).exists()
        if not deliveries:
            return jobs.browse()
        # an enqueue refreshing one of these bodies right now finishes first (it never waits for us)
        self.env.cr.execute(
            SQL("SELECT id FROM semantic_webhook_delivery WHERE id IN %s ORDER BY id FOR UPDATE", tuple(deliveries.ids))
        )
        job_of = {job.res_id: job for job in jobs}
        service = self.env["semantic.search.service"]
        sending = self.browse()
        for delivery in deliveries:
            if delivery.state in ("delivered", "disabled"):
                continue  # settled already (a job that ran twice): nothing to send
            if not delivery.endpoint_id.active:
                delivery.write({"state": "disabled", "last_error": self.env._("The endpoint is archived.")})
                continue
            sending |= delivery
        requests = [
            (
                delivery.endpoint_id.url,
                delivery.endpoint_id.secret,
                delivery.payload.encode("utf-8"),
                delivery.webhook_id,
                delivery.event_type,
            )
            for delivery in sending
        ]
        outcomes = _send_all(
            requests,
            [(delivery.endpoint_id.id, delivery.res_model, delivery.res_id or -delivery.id) for delivery in sending],
            allow=service._webhook_allowlist(),
            timeout=float(service._get_param_int("webhook_timeout", minimum=1)),
            workers=service._get_param_int("webhook_workers", minimum=1),
            budget=service._get_param_int("webhook_batch_seconds", minimum=1),
        )
        not_done = jobs.browse()
        for delivery, outcome in zip(sending, outcomes, strict=True):
            job = job_of[delivery.id]
            if outcome is _DEFERRED:
                not_done |= job  # untouched: still due, the next batch sends it
            elif not delivery._record_outcome(outcome, job):
                not_done |= job
        return not_done

    def _record_outcome(self, outcome, job):
        """Store one attempt; schedule the retry or give up. Returns whether the job is done."""
        self.ensure_one()
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        values = {"attempts": attempts, "last_attempt_at": now}
        retry_after = None
        if isinstance(outcome, DeliveryResult):
            values.update(
                last_status_code=outcome.status or 0,
                response_excerpt=outcome.response_excerpt or False,
                duration_ms=outcome.duration_ms,
            )
            if outcome.ok:
                values.update(state="delivered", delivered_at=now, last_error=False)
                self.write(values)
                _logger.debug(
                    "Webhook %s (%s) delivered to endpoint %s", self.webhook_id, self.event_type, self.endpoint_id.id
                )
                return True
            error = outcome.error or f"HTTP {outcome.status}"
            if outcome.gone:
                values.update(state="disabled", last_error=truncate_for_log(error, ERROR_MAX_CHARS))
                self.write(values)
                _logger.warning("Webhook endpoint %s answered 410 Gone: archived", self.endpoint_id.id)
                self.endpoint_id._disable_gone(self)
                return True
            retry_after = outcome.retry_after
            permanent = False
        elif isinstance(outcome, UnsafeURLError):
            # the host now resolves to a forbidden address (or the allow-list shrank): never retried
            error = f"unsafe URL: {outcome}"
            permanent = True
        elif isinstance(outcome, (WebhookVerificationError, InvalidInputError)):
            error = f"cannot sign the delivery: {outcome}"  # a malformed secret or id does not fix itself
            permanent = True
        else:
            if not isinstance(outcome, SearchLibError):  # e.g. ConfigError for a bad allow-list is expected
                _logger.error("Webhook %s crashed", self.webhook_id, exc_info=outcome)
            error = f"{type(outcome).__name__}: {outcome}"
            permanent = False
        error = truncate_for_log(error, ERROR_MAX_CHARS)
        delay = None if permanent else next_retry_delay(attempts, retry_after=retry_after)
        values.update(state="dead" if delay is None else "failed", last_error=error)
        self.write(values)
        _logger.warning(
            "Webhook %s (%s) to endpoint %s failed (attempt %s, %s): %s%s",
            self.webhook_id,
            self.event_type,
            self.endpoint_id.id,
            attempts,
            "dead" if delay is None else f"retry in {delay:.0f} s",
            error,
            f"; answer: {truncate_for_log(self.response_excerpt, 200)}" if self.response_excerpt else "",
        )
        if delay is None:
            job._mark_failed(error, permanent=True)
        else:
            job._mark_failed(error, retry_in=delay)
        return False

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_redeliver(self):
        """Send again as NEW deliveries: same body, same webhook-id, a fresh retry schedule.

        The original keeps its history. Receivers that processed the webhook-id already
        drop the copy, as Standard Webhooks intends.
        """
        self.check_access("write")
        archived = self.endpoint_id.filtered(lambda endpoint: not endpoint.active)
        if archived:
            raise UserError(
                self.env._(
                    "Unarchive these endpoints before redelivering to them: %(names)s",
                    names=", ".join(archived.mapped("name")),
                )
            )
        ids = self._insert(
            [
                {
                    "endpoint_id": delivery.endpoint_id.id,
                    "company_id": delivery.company_id.id,
                    "event_type": delivery.event_type,
                    "res_model": delivery.res_model,
                    "res_id": delivery.res_id,
                    "webhook_id": delivery.webhook_id,
                    "payload": delivery.payload,
                    "is_test": delivery.is_test,
                    "redelivery_of_id": delivery.id,
                }
                for delivery in self
            ]
        )
        redeliveries = self.browse(ids)
        action = {
            "type": "ir.actions.act_window",
            "name": self.env._("Redeliveries"),
            "res_model": self._name,
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", redeliveries.ids)],
        }
        if len(redeliveries) == 1:
            action.update(views=[(False, "form")], res_id=redeliveries.id)
        return action

    @api.autovacuum
    def _gc_old_deliveries(self):
        """Settled deliveries are history: keep ``webhook_log_days`` (30) days of it."""
        days = self.env["semantic.search.service"]._get_param_int("webhook_log_days", minimum=1)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM semantic_webhook_delivery
                 WHERE state IN ('delivered', 'disabled', 'dead')
                   AND write_date < (now() at time zone 'UTC') - make_interval(days => %s)
                """,
                days,
            )
        )
