# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Delivery log of outgoing webhooks, and the sending itself.

A delivery is written in the transaction of the change that caused it (one SQL
statement for every endpoint and product of the change), with its exact JSON
body (built once: every retry sends the same bytes) and its ``webhook-id``
(generated once: receivers dedupe on it), and gets one queue_job job on the
channel ``root.semantic.webhook``. The job makes one HTTP attempt. A failure
raises ``RetryableJobError`` with the library's Standard Webhooks schedule
(``Retry-After`` honoured), so the retry state (attempts, next attempt, last
error) lives in the job alone: the delivery stores the business outcome
(delivered, disabled by a 410) and shows the rest from its job. A permanent
failure (an unsafe URL, a secret that cannot sign) fails the job, which tells
the job managers. Signing, the SSRF guard and the schedule live in
``odoo_search_lib.webhooks``.

Delivery is at least once: a crash after a successful POST and before the
commit sends the same body again, with the same ``webhook-id``.
"""

import logging
import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError

from odoo_search_lib import InvalidInputError, UnsafeURLError, WebhookVerificationError
from odoo_search_lib.webhooks import RETRY_SCHEDULE, build_payload, deliver, next_retry_delay, truncate_for_log

_logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 1000
#: A paused endpoint's jobs look again this often (resuming makes them due at once anyway).
PAUSED_RECHECK_SECONDS = 3600
#: Ends the message a postponed job keeps: "(attempt at YYYY-MM-DD HH:MM:SS)", UTC.
ATTEMPT_MARK = "(attempt at "
#: Job states in which the delivery's job is over (with or without success).
_JOB_OVER = ("done", "failed", "cancelled")

# One statement writes the deliveries. A delivery whose job has not started its
# first attempt takes the newer body of the same record/endpoint/event instead of
# a second delivery, unless the job runner holds that job right now (SKIP LOCKED:
# a product write never waits; the runner commits "started" before it reads the
# body, so a refreshed body is the one sent). Archived endpoints are skipped.
_INSERT_QUERY = """
    WITH incoming (delivery_id, endpoint_id, company_id, event_type, res_model, res_id,
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
                  JOIN queue_job job ON job.id = delivery.job_id
                 WHERE delivery.endpoint_id = live.endpoint_id
                   AND delivery.event_type = live.event_type
                   AND delivery.res_id = live.res_id
                   AND delivery.res_model = live.res_model
                   AND delivery.result IS NULL
                   AND delivery.is_test IS NOT TRUE AND delivery.redelivery_of_id IS NULL
                   AND job.state IN ('pending', 'enqueued') AND job.retry = 0
                 LIMIT 1
                   FOR UPDATE OF job SKIP LOCKED
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
    inserted AS (
        INSERT INTO semantic_webhook_delivery (id, endpoint_id, company_id, event_type, res_model, res_id,
                                               webhook_id, payload, is_test, redelivery_of_id,
                                               create_uid, create_date, write_uid, write_date)
        SELECT delivery_id, endpoint_id, company_id, event_type, res_model, res_id,
               webhook_id, payload, is_test, redelivery_of_id,
               %(uid)s, (now() at time zone 'UTC'), %(uid)s, (now() at time zone 'UTC')
          FROM live
         WHERE live.delivery_id NOT IN (SELECT incoming_id FROM coalesced)
     RETURNING id, event_type
    )
    SELECT id, event_type FROM inserted
     UNION ALL
    SELECT id, NULL FROM refreshed
"""


def new_webhook_id():
    """A Standard Webhooks message id: ``msg_`` + a random UUID (32 hex digits)."""
    return f"msg_{uuid.uuid4().hex}"


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
        "semantic.webhook.delivery", readonly=True, ondelete="set null", index="btree_not_null"
    )
    job_id = fields.Many2one("queue.job", readonly=True, ondelete="set null", index="btree_not_null")
    result = fields.Selection(
        selection=[("delivered", "Delivered"), ("disabled", "Disabled")],
        readonly=True,
        help="The outcome, once there is one; until then the job's state tells where the delivery is.",
    )
    state = fields.Selection(
        selection=[
            ("pending", "Pending"),
            ("failed", "Failed (will retry)"),
            ("delivered", "Delivered"),
            ("dead", "Dead"),
            ("disabled", "Disabled"),
        ],
        compute="_compute_state",
        search="_search_state",
        help="Dead: every retry failed, or the failure cannot be retried (its job says why). "
        "Disabled: the endpoint answered 410 Gone or was archived.",
    )
    attempts = fields.Integer(compute="_compute_state")
    next_attempt_at = fields.Datetime(
        string="Next Attempt", compute="_compute_state", help="When the job tries again (its schedule)."
    )
    last_error = fields.Text(compute="_compute_state", help="What the last failed attempt got (from its job).")
    last_attempt_at = fields.Datetime(string="Last Attempt", readonly=True)
    last_status_code = fields.Integer(string="Last Status", readonly=True, aggregator=False)
    response_excerpt = fields.Text(readonly=True)
    duration_ms = fields.Float(string="Duration (ms)", digits=(16, 1), readonly=True, aggregator=False)
    delivered_at = fields.Datetime(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_written_by_code()
        return super().create(vals_list)

    def write(self, vals):
        self._check_written_by_code()
        return super().write(vals)

    def _check_written_by_code(self):
        """A delivery is what was (or will be) sent, signed with a secret its readers may not know:
        only the code (as superuser) writes it, never a user, whatever the access rights say."""
        if not self.env.su:
            raise AccessError(self.env._("Webhook deliveries are written by the system only."))

    def init(self):
        # the coalescing lookup of every enqueue: deliveries without an outcome
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS semantic_webhook_delivery_coalesce_idx
                ON semantic_webhook_delivery (endpoint_id, event_type, res_id)
             WHERE result IS NULL AND is_test IS NOT TRUE AND redelivery_of_id IS NULL
            """
        )

    @api.depends("endpoint_id.name", "event_type")
    def _compute_display_name(self):
        for delivery in self:
            delivery.display_name = f"{delivery.endpoint_id.name}: {delivery.event_type}"

    @api.depends("result", "job_id.state", "job_id.retry", "job_id.eta", "job_id.result", "job_id.exc_message")
    def _compute_state(self):
        for delivery in self:
            job = delivery.job_id.sudo()
            if delivery.result:
                state = delivery.result
            elif not job or job.state in ("failed", "cancelled"):
                state = "dead"
            elif job.state == "done":
                state = "delivered"
            else:
                state = "failed" if job.retry else "pending"
            delivery.state = state
            delivery.attempts = job.retry if job else 0
            delivery.next_attempt_at = (job.eta or job.date_created) if state in ("pending", "failed") else False
            if job.state == "failed":
                delivery.last_error = job.exc_message or job.exc_name
            elif state == "failed":
                delivery.last_error = job.result
            else:
                delivery.last_error = False

    def _search_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on the delivery state: %(op)s", op=operator))
        values = [value] if operator in ("=", "!=") else list(value)
        open_job = [("job_id.state", "not in", _JOB_OVER)]
        domains = {
            "delivered": [("result", "=", "delivered")],
            "disabled": [("result", "=", "disabled")],
            "dead": [
                ("result", "=", False),
                "|",
                ("job_id", "=", False),
                ("job_id.state", "in", ("failed", "cancelled")),
            ],
            "failed": [("result", "=", False), *open_job, ("job_id.retry", ">", 0)],
            "pending": [("result", "=", False), *open_job, ("job_id.retry", "=", 0)],
        }
        parts = [domains[v] for v in values if v in domains]
        domain = ["|"] * (len(parts) - 1) + [term for part in parts for term in part] if parts else [("id", "=", 0)]
        return ["!", *domain] if operator in ("!=", "not in") else domain

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
        """Write deliveries and queue a job for each new one; returns the ids written or refreshed.

        Each row has ``endpoint_id``, ``company_id``, ``event_type``, ``payload`` and optionally
        ``res_model``, ``res_id``, ``webhook_id`` (a new one by default), ``is_test``,
        ``redelivery_of_id`` and ``coalesce`` (refresh a not yet attempted delivery of the same
        record, endpoint and event instead of adding one). Rows of archived endpoints are skipped.
        """
        if not rows:
            return []
        self.flush_model()
        self.env["queue.job"].flush_model()
        values = SQL(", ").join(
            SQL(
                "(nextval('semantic_webhook_delivery_id_seq'), %s::int4, "
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
        self.env.cr.execute(SQL(_INSERT_QUERY, values=values, uid=self.env.uid))
        written = self.env.cr.fetchall()  # (id, event type) of a new delivery, (id, None) of a refreshed one
        self.invalidate_model()
        jobs = []  # (delivery id, its job's uuid) of each new delivery
        for delivery_id, event_type in written:
            if event_type:
                job = (
                    self.sudo()
                    .browse(delivery_id)
                    .with_delay(
                        description=self.env._("Webhook %(event)s", event=event_type),
                        max_retries=len(RETRY_SCHEDULE) + 1,
                    )
                    ._job_deliver()
                )
                jobs.append((delivery_id, job.uuid))
        if jobs:
            # queue_job creates each job's row at once: one statement links them all (rather than a
            # lookup of each job by its uuid, and an update of each delivery)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE semantic_webhook_delivery delivery
                       SET job_id = job.id
                      FROM (VALUES %s) AS new (delivery_id, uuid)
                      JOIN queue_job job ON job.uuid = new.uuid
                     WHERE delivery.id = new.delivery_id
                    """,
                    SQL(", ").join(SQL("(%s::int4, %s::varchar)", delivery_id, uuid) for delivery_id, uuid in jobs),
                )
            )
            self.invalidate_model()  # job_id, and what is computed from it
        return [delivery_id for delivery_id, _event_type in written]

    # ------------------------------------------------------------------
    # Delivery (job on root.semantic.webhook)
    # ------------------------------------------------------------------

    def _job_deliver(self):
        """One HTTP attempt; a failure postpones the job on the Standard Webhooks schedule."""
        self.ensure_one()
        delivery = self.sudo().exists()
        if not delivery:
            return "skipped: the delivery was deleted"
        if delivery.result:
            return f"skipped: already {delivery.result}"  # a job that ran twice
        endpoint = delivery.endpoint_id
        if not endpoint.active:
            delivery.result = "disabled"
            return "disabled: the endpoint is archived"
        if endpoint.paused:
            # keeps its place and its retries: resuming makes it due at once
            raise RetryableJobError("the endpoint is paused", seconds=PAUSED_RECHECK_SECONDS, ignore_retry=True)
        service = self.env["semantic.search.service"]
        attempt = (delivery.job_id.retry or 0) + 1
        try:
            outcome = deliver(
                endpoint.url,
                endpoint.secret,
                delivery.payload.encode("utf-8"),
                msg_id=delivery.webhook_id,
                event_type=delivery.event_type,
                allow=service._webhook_allowlist(),
                timeout=float(service._get_param_int("webhook_timeout", minimum=1)),
            )
        except UnsafeURLError as exc:
            # the host now resolves to a forbidden address (or the allow-list shrank): never retried
            raise FailedJobError(f"unsafe URL: {exc}") from exc
        except (WebhookVerificationError, InvalidInputError) as exc:
            raise FailedJobError(f"cannot sign the delivery: {exc}") from exc
        now = fields.Datetime.now()
        if outcome.ok or outcome.gone:
            delivery.write(
                {
                    "result": "delivered" if outcome.ok else "disabled",
                    "delivered_at": now if outcome.ok else False,
                    "last_attempt_at": now,
                    "last_status_code": outcome.status or 0,
                    "response_excerpt": outcome.response_excerpt or False,
                    "duration_ms": outcome.duration_ms,
                }
            )
            if outcome.gone:
                _logger.warning("Webhook endpoint %s answered 410 Gone: archived", endpoint.id)
                endpoint._disable_gone(delivery)
                return "disabled: 410 Gone"
            return f"delivered: HTTP {outcome.status} in {outcome.duration_ms:.0f} ms"
        if outcome.status is None:
            error = f"no answer: {outcome.error}"  # connection refused, timeout, TLS: not an HTTP status
        else:
            error = outcome.error or f"HTTP {outcome.status}"
        if outcome.response_excerpt:
            error = f"{error}; answer: {truncate_for_log(outcome.response_excerpt, 200)}"
        error = truncate_for_log(error, ERROR_MAX_CHARS)
        delay = next_retry_delay(attempt, retry_after=outcome.retry_after)
        _logger.info(
            "Webhook %s to endpoint %s failed (attempt %s): %s", delivery.webhook_id, endpoint.id, attempt, error
        )
        if delay is None:
            raise FailedJobError(f"every retry failed; last attempt: {error}")
        # queue_job keeps no time of a postponed attempt (and this transaction is rolled back):
        # the message the job keeps carries it, for the endpoint's health
        raise RetryableJobError(f"{error} {ATTEMPT_MARK}{now:%Y-%m-%d %H:%M:%S})", seconds=max(1, round(delay)))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_redeliver(self):
        """Send again as NEW deliveries: same body, same webhook-id, a fresh retry schedule.

        The original keeps its history. Receivers that processed the webhook-id already
        drop the copy, as Standard Webhooks intends.
        """
        self._check_redeliver_access()
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

    def _check_redeliver_access(self):
        """Deliveries are read-only to everyone (the code writes them as superuser), so the
        right to redeliver is checked here: webhook administrators, on deliveries they may read."""
        self.check_access("read")
        if not self.env.user.has_group("semantic_product_description.semantic_product_description_group_manager"):
            raise AccessError(self.env._("Only semantic search administrators may redeliver webhooks."))

    @api.autovacuum
    def _gc_old_deliveries(self):
        """Settled deliveries are history: keep ``webhook_log_days`` (30) days of it."""
        days = self.env["semantic.search.service"]._get_param_int("webhook_log_days", minimum=1)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM semantic_webhook_delivery delivery
                 WHERE delivery.write_date < (now() at time zone 'UTC') - make_interval(days => %s)
                   AND (delivery.result IS NOT NULL
                        OR NOT EXISTS (SELECT 1 FROM queue_job job
                                        WHERE job.id = delivery.job_id AND job.state NOT IN %s))
                """,
                days,
                _JOB_OVER,
            )
        )
