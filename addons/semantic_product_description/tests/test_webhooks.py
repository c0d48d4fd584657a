# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo_search_lib import WebhookVerificationError
from odoo_search_lib.webhooks import RETRY_SCHEDULE, verify

from .common import WebhookTestMixin, free_port

DELIVERY_LOGGER = "odoo.addons.semantic_product_description.models.semantic_webhook_delivery"


@tagged("post_install", "-at_install")
class TestWebhooks(WebhookTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_webhooks()

    def _body(self, delivery):
        return json.loads(delivery.payload)

    # ------------------------------------------------------------------
    # Enqueue
    # ------------------------------------------------------------------

    def test_product_events_reach_subscribed_endpoints_only(self):
        everything = self._receiver()
        deletes_only = self._receiver()
        all_events = self._endpoint(everything)
        delete_endpoint = self._endpoint(deletes_only, events=["product.deleted"])

        product = self._create_product("Quoll Kettle", default_code="QK-1")
        created = self._deliveries(all_events)
        self.assertEqual(created.mapped("event_type"), ["product.created"])
        self.assertFalse(self._deliveries(delete_endpoint))
        body = self._body(created)
        self.assertEqual(body["type"], "product.created")
        self.assertEqual(body["data"]["id"], product.id)
        self.assertEqual(body["data"]["name"], "Quoll Kettle")
        self.assertEqual(body["data"]["default_code"], "QK-1")
        self.assertEqual(body["data"]["list_price"], 49.9)
        self.assertEqual(body["data"]["category"], "All / Kitchen")
        self.assertTrue(body["data"]["active"])
        self.assertTrue(created.webhook_id.startswith("msg_"))

        self._run_jobs()
        self.assertEqual(created.state, "delivered")
        self.assertEqual(created.attempts, 1)
        self.assertEqual(created.last_status_code, 200)
        self.assertTrue(created.delivered_at)
        self.assertEqual(created.job_id.state, "done")
        (request,) = everything.requests
        self.assertTrue(request["verified"])
        self.assertEqual(request["id"], created.webhook_id)
        self.assertEqual(request["body"], created.payload.encode())
        self.assertEqual(request["headers"]["x-odoo-event"], "product.created")
        self.assertEqual(request["headers"]["content-type"], "application/json")

        product.write({"sequence": 42})  # not part of the event's data
        self.assertEqual(len(self._deliveries(all_events)), 1)
        product.list_price = 55.0
        updated = self._deliveries(all_events, event_type="product.updated")
        self.assertEqual(self._body(updated)["data"]["list_price"], 55.0)
        self.assertFalse(self._deliveries(delete_endpoint))

        product_id = product.id
        product.unlink()
        deleted = self._deliveries(delete_endpoint)
        self.assertEqual(deleted.mapped("event_type"), ["product.deleted"])
        self.assertEqual(self._body(deleted)["data"]["id"], product_id)
        self._run_jobs()
        self.assertEqual(
            [event["type"] for event in everything.events()],
            ["product.created", "product.updated", "product.deleted"],
        )
        self.assertEqual([event["type"] for event in deletes_only.events()], ["product.deleted"])
        self.assertTrue(all(request["verified"] for request in everything.requests + deletes_only.requests))

    def test_create_is_one_event(self):
        # core writes the reference back to the variant with write() while creating
        endpoint = self._endpoint(url="https://1.1.1.1/hook")
        self._create_product("Antechinus Pot", default_code="AP-1", description_sale="Small pot")
        self.assertEqual(self._deliveries(endpoint).mapped("event_type"), ["product.created"])

    def test_variant_reference_change_is_an_update(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook", events=["product.updated"])
        product = self._create_product("Glider Cup", attribute_line_ids=[])
        product.product_variant_ids.default_code = "GC-9"
        (delivery,) = self._deliveries(endpoint)
        self.assertEqual(self._body(delivery)["data"]["default_code"], "GC-9")

    def test_product_editor_without_webhook_rights_triggers_events(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook", events=["product.updated"])
        editor = new_test_user(
            self.env, login="spd_webhook_editor", groups="base.group_user,product.group_product_manager"
        )
        product = self._create_product("Kultarr Cup")
        with self.assertRaises(AccessError):  # product managers are webhook readers, not managers
            self.Endpoint.with_user(editor).create({"name": "Mine", "url": "https://1.1.1.1/mine"})
        product.with_user(editor).write({"name": "Kultarr Cup 2"})
        self.assertEqual(self._body(self._deliveries(endpoint))["data"]["name"], "Kultarr Cup 2")

    def test_nobody_listening_costs_no_query(self):
        product = self._create_product("Possum Plate")
        Delivery = self.Delivery
        Delivery._enqueue_product_event("product.updated", product)  # warm the subscription cache
        with self.assertQueryCount(0):
            self.assertEqual(Delivery._enqueue_product_event("product.updated", product), [])
        product.name = "Possum Plate 2"
        self.assertFalse(self.Delivery.search([]))

    def test_each_delivery_costs_only_its_job(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook", events=["product.updated"])
        products = [self._create_product(f"Bilby Mug {n}") for n in range(6)]
        Delivery = self.Delivery
        Delivery._enqueue_product_event("product.updated", products[0])  # warm the caches
        self.env.flush_all()
        queries = []
        for batch in (products[1], self.env["product.template"].union(*products[2:])):
            before = self.env.cr.sql_log_count
            Delivery._enqueue_product_event("product.updated", batch)
            self.env.flush_all()
            queries.append(self.env.cr.sql_log_count - before)
        # per delivery, queue_job's own two statements (its uuid lookup, its row) and nothing more
        self.assertLessEqual(queries[1] - queries[0], 2 * 3, queries)
        deliveries = self._deliveries(endpoint)
        self.assertEqual(len(deliveries), 6)
        for delivery in deliveries:  # each linked to its own job, in one statement
            self.assertEqual(delivery.job_id.records, delivery)
            self.assertEqual(delivery.job_id.name, "Webhook product.updated")

    def test_repeated_edits_coalesce_until_attempted(self):
        receiver = self._receiver(statuses=[500])
        endpoint = self._endpoint(receiver, events=["product.updated"])
        product = self._create_product("Wallaby Bowl")
        product.list_price = 10.0
        product.list_price = 11.0
        product.write({"name": "Wallaby Bowl XL", "list_price": 12.0})
        pending = self._deliveries(endpoint)
        self.assertEqual(len(pending), 1)
        self.assertEqual(self._body(pending)["data"]["list_price"], 12.0)
        self.assertEqual(self._body(pending)["data"]["name"], "Wallaby Bowl XL")
        webhook_id = pending.webhook_id

        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        self.assertEqual(pending.state, "failed")
        sent_body = pending.payload
        # an attempted delivery keeps its body: the next edit is a new delivery
        product.list_price = 13.0
        self.assertEqual(pending.payload, sent_body)
        self.assertEqual(pending.webhook_id, webhook_id)
        newer = self._deliveries(endpoint) - pending
        self.assertEqual(len(newer), 1)
        self.assertEqual(self._body(newer)["data"]["list_price"], 13.0)
        self.assertNotEqual(newer.webhook_id, webhook_id)

    def test_description_generation_event(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver)
        product = self._create_product("Bandicoot Jar")
        self._run_jobs()
        product.action_generate_semantic_description()
        delivery = self._deliveries(endpoint, event_type="product.description_generated")
        self.assertEqual(len(delivery), 1)
        self.assertFalse(self._deliveries(endpoint, event_type="product.updated"))
        data = self._body(delivery)["data"]
        self.assertEqual(data["semantic_description"], product.semantic_description)
        self.assertEqual(data["semantic_description_source"], "template")
        self._run_jobs()
        self.assertEqual(receiver.events()[-1]["type"], "product.description_generated")
        # a manual edit of the description is a plain update
        product.semantic_description = "Hand-written."
        self.assertEqual(len(self._deliveries(endpoint, event_type="product.updated")), 1)

    def test_multi_company(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        receiver_a, receiver_b = self._receiver(), self._receiver()
        endpoint_a = self._endpoint(receiver_a, company_id=self.env.company.id)
        endpoint_b = self._endpoint(receiver_b, company_id=company_b.id)

        product_a = self._create_product("Cockatoo Tin", company_id=self.env.company.id)
        self.assertTrue(self._deliveries(endpoint_a))
        self.assertFalse(self._deliveries(endpoint_b))
        product_b = self._create_product("Galah Tin", company_id=company_b.id)
        self.assertEqual(self._deliveries(endpoint_b).mapped("res_id"), [product_b.id])
        shared = self._create_product("Magpie Tin", company_id=False)
        self.assertEqual(self._deliveries(endpoint_a).mapped("res_id"), [product_a.id, shared.id])
        self.assertEqual(self._deliveries(endpoint_b).mapped("res_id"), [product_b.id, shared.id])

        self._run_jobs()
        self.assertEqual({event["data"]["id"] for event in receiver_a.events()}, {product_a.id, shared.id})
        self.assertEqual({event["data"]["id"] for event in receiver_b.events()}, {product_b.id, shared.id})

        # record rules: a manager of company A sees neither company B's endpoint nor its deliveries
        manager_a = new_test_user(
            self.env,
            login="spd_webhook_manager_a",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_manager",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        visible = self.Endpoint.with_user(manager_a).search([("id", "in", (endpoint_a | endpoint_b).ids)])
        self.assertEqual(visible, endpoint_a)
        self.assertFalse(self.Delivery.with_user(manager_a).search([("endpoint_id", "=", endpoint_b.id)]))

    # ------------------------------------------------------------------
    # Delivery and retries
    # ------------------------------------------------------------------

    def test_retry_after_500_sends_the_same_message(self):
        receiver = self._receiver(statuses=[500])
        endpoint = self._endpoint(receiver, events=["product.created"])
        self._create_product("Numbat Tray")
        delivery = self._deliveries(endpoint)
        before = datetime.now()  # naive UTC, as Odoo keeps datetimes
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        after = datetime.now()
        self.assertEqual(delivery.state, "failed")
        self.assertEqual(delivery.attempts, 1)
        self.assertIn("HTTP 500", delivery.last_error)
        self.assertIn('"status": 500', delivery.last_error)  # the receiver's answer, kept by the job
        # the retry is due the schedule's first delay (+-20 %) after the attempt, which ran between before
        # and after; the job keeps its due time to the second
        earliest = before + timedelta(seconds=RETRY_SCHEDULE[0] * 0.8 - 1)
        latest = after + timedelta(seconds=RETRY_SCHEDULE[0] * 1.2 + 1)
        self.assertTrue(earliest <= delivery.next_attempt_at <= latest, (earliest, delivery.next_attempt_at, latest))
        # one state machine: the retry schedule is the job's
        self.assertEqual((delivery.job_id.state, delivery.job_id.retry), ("pending", 1))
        self.assertEqual(delivery.job_id.channel, "root.semantic.webhook")
        self.assertEqual(self._run_jobs(), 0)  # not due yet

        self._make_deliveries_due(delivery)
        self._run_jobs()
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(delivery.attempts, 2)
        self.assertFalse(delivery.last_error)
        self.assertFalse(delivery.next_attempt_at)
        self.assertEqual(delivery.last_status_code, 200)
        first, second = receiver.requests
        self.assertEqual(first["id"], second["id"])
        self.assertEqual(first["body"], second["body"])
        self.assertTrue(first["verified"] and second["verified"])
        self.assertEqual(receiver.processed, [delivery.webhook_id])

    def test_retry_after_header_is_honoured(self):
        receiver = self._receiver(statuses=[429], headers={"Retry-After": "120"})
        endpoint = self._endpoint(receiver, events=["product.created"])
        self._create_product("Quokka Tray")
        before = fields.Datetime.now()
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        delivery = self._deliveries(endpoint)
        self.assertEqual(delivery.state, "failed")
        self.assertGreaterEqual((delivery.next_attempt_at - before).total_seconds(), 119)

    def test_receiver_down_for_the_whole_schedule_is_dead(self):
        endpoint = self._endpoint(url=f"http://127.0.0.1:{free_port()}/down", events=["product.created"])
        self._create_product("Dunnart Dish")
        delivery = self._deliveries(endpoint)
        with mute_logger(DELIVERY_LOGGER):
            for _attempt in range(len(RETRY_SCHEDULE) + 1):
                self.assertIn(delivery.state, ("pending", "failed"))
                self._make_deliveries_due(delivery)
                self._run_jobs()
        self.assertEqual(delivery.state, "dead")
        self.assertEqual(delivery.attempts, len(RETRY_SCHEDULE) + 1)
        self.assertIn("connection failed", delivery.last_error)
        self.assertFalse(delivery.next_attempt_at)
        self.assertEqual(delivery.job_id.state, "failed")  # queue_job tells the job managers
        self.assertEqual(self.Delivery.search([("state", "=", "dead"), ("endpoint_id", "=", endpoint.id)]), delivery)
        self.assertEqual(self._run_jobs(), 0)

    def test_gone_disables_the_endpoint(self):
        receiver = self._receiver(default_status=410)
        endpoint = self._endpoint(receiver)
        self._create_product("Bilby Box")
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        delivery = self._deliveries(endpoint)
        self.assertEqual(delivery.state, "disabled")
        self.assertEqual(delivery.last_status_code, 410)
        self.assertFalse(endpoint.active)
        self.assertTrue(any("410 Gone" in message.body for message in endpoint.message_ids))
        self.assertEqual(endpoint.activity_ids.user_id, self.env.ref("base.user_admin"))
        # nothing more is queued for it, and what was pending is not sent
        self._create_product("Bilby Box 2")
        self.assertEqual(len(self._deliveries(endpoint)), 1)
        self.assertEqual(len(receiver.requests), 1)

    def test_archived_endpoint_pending_deliveries_are_disabled(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver)
        self._create_product("Potoroo Pan")
        endpoint.active = False
        self._run_jobs()
        self.assertEqual(self._deliveries(endpoint).state, "disabled")
        self.assertFalse(receiver.requests)

    # ------------------------------------------------------------------
    # URL safety
    # ------------------------------------------------------------------

    def test_unsafe_targets_are_refused_on_save(self):
        self._set_params(webhook_allowlist="")
        for url in (
            "http://127.0.0.1:8069/hook",
            "https://127.0.0.1/hook",
            "https://10.0.0.5/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://localhost/hook",
            "ftp://1.1.1.1/hook",
            "https://user:pass@1.1.1.1/hook",
        ):
            with self.subTest(url=url), self.assertRaises(ValidationError):
                self._endpoint(url=url)
        endpoint = self._endpoint(url="https://1.1.1.1/hook")
        with self.assertRaises(ValidationError):
            endpoint.url = "https://192.168.1.10/hook"

    def test_https_required_unless_allow_listed(self):
        with self.assertRaisesRegex(ValidationError, "must use https"):
            self._endpoint(url="http://1.1.1.1/hook")
        self.assertTrue(self._endpoint(url="https://1.1.1.1/hook"))
        # allow-listed: plain http is fine, for that address only
        self.assertTrue(self._endpoint(url="http://127.0.0.1:8069/hook"))
        with self.assertRaises(ValidationError):
            self._endpoint(url="http://127.0.0.2:8069/hook")
        self._set_params(webhook_allowlist="127.0.0.1, 1.1.1.1")
        self.assertTrue(self._endpoint(url="http://1.1.1.1/hook"))
        self._set_params(webhook_allowlist="127.0.0.1, not a host")
        with self.assertRaisesRegex(ValidationError, "webhook_allowlist"):
            self._endpoint(url="https://1.1.1.1/hook")

    def test_unarchiving_rechecks_the_url(self):
        endpoint = self._endpoint(url="http://127.0.0.1:8069/hook")
        endpoint.active = False
        self._set_params(webhook_allowlist="")
        with self.assertRaises(ValidationError):
            endpoint.active = True

    def test_unsafe_at_delivery_is_dead(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.created"])
        self._create_product("Echidna Jug")
        # the address is no longer allowed when the job runs (as when DNS changes)
        self._set_params(webhook_allowlist="")
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        delivery = self._deliveries(endpoint)
        self.assertEqual(delivery.state, "dead")
        self.assertIn("unsafe URL", delivery.last_error)
        self.assertIn("loopback", delivery.last_error)
        self.assertEqual(delivery.job_id.state, "failed")
        self.assertFalse(receiver.requests)

    # ------------------------------------------------------------------
    # Secret
    # ------------------------------------------------------------------

    def test_secret_is_shown_once(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook")
        secret = endpoint.sudo().secret
        self.assertTrue(secret.startswith("whsec_"))
        self.assertFalse(endpoint.secret_revealed)
        action = endpoint.action_show_secret()
        self.assertEqual(action["res_model"], "semantic.webhook.secret.wizard")
        self.assertEqual(action["context"]["default_secret"], secret)
        self.assertTrue(endpoint.secret_revealed)
        with self.assertRaises(UserError):
            endpoint.action_show_secret()
        # a copy gets its own secret
        copy = endpoint.copy()
        self.assertNotEqual(copy.sudo().secret, secret)
        self.assertFalse(copy.secret_revealed)

    def test_rotation_retires_the_old_secret(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.created"])
        old_secret = endpoint.sudo().secret
        action = endpoint.action_rotate_secret()
        new_secret = endpoint.sudo().secret
        self.assertNotEqual(new_secret, old_secret)
        self.assertEqual(action["context"]["default_secret"], new_secret)
        self.assertTrue(endpoint.secret_revealed)
        self.assertNotIn(new_secret, endpoint.message_ids[0].body)
        self.assertIn("rotated", endpoint.message_ids[0].body)

        receiver.secret = new_secret
        self._create_product("Wombat Tin")
        self._run_jobs()
        (request,) = receiver.requests
        self.assertTrue(request["verified"])
        verify(new_secret, request["headers"], request["body"])
        with self.assertRaises(WebhookVerificationError):
            verify(old_secret, request["headers"], request["body"])

    def test_secret_is_for_administrators_only(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook")
        user = new_test_user(
            self.env,
            login="spd_webhook_user",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_user",
        )
        manager = new_test_user(
            self.env,
            login="spd_webhook_manager",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_manager",
        )
        self.assertEqual(endpoint.with_user(user).name, "Receiver")  # the endpoint itself is readable
        for someone in (user, manager):
            with self.assertRaises(AccessError):
                endpoint.with_user(someone).read(["secret"])
            with self.assertRaises(AccessError):
                endpoint.with_user(someone).secret  # noqa: B018
        with self.assertRaises(AccessError):
            endpoint.with_user(user).action_rotate_secret()
        # the module's own administrator may not read it either: Settings administrators only
        with self.assertRaises(AccessError):
            endpoint.with_user(manager).action_show_secret()
        with self.assertRaises(AccessError):
            endpoint.with_user(manager).action_rotate_secret()
        admin = self.env.ref("base.user_admin")
        self.assertTrue(endpoint.with_user(admin).secret)
        for view_type in ("list", "form", "search"):
            self.assertNotIn('name="secret"', self.Endpoint.get_view(view_type=view_type)["arch"])

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def test_send_test_event(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.deleted"])  # test events ignore subscriptions
        action = endpoint.action_send_test_event()
        self.assertEqual(action["tag"], "display_notification")
        delivery = self._deliveries(endpoint)
        self.assertEqual((delivery.job_id.state, delivery.job_id.channel), ("pending", "root.semantic.webhook"))
        self.assertTrue(delivery.is_test)
        self._run_jobs()
        self.assertEqual(delivery.state, "delivered")
        (event,) = receiver.events()
        self.assertEqual(event["type"], "product.test")  # never mistaken for a real change
        self.assertEqual(delivery.event_type, "product.test")
        self.assertIs(event["data"]["test"], True)
        endpoint.active = False
        with self.assertRaises(UserError):
            endpoint.action_send_test_event()

    def test_redeliver_sends_the_same_message_again(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.created"])
        self._create_product("Kowari Mug")
        self._run_jobs()
        original = self._deliveries(endpoint)
        self.assertEqual(original.state, "delivered")
        action = original.action_redeliver()
        redelivery = self.Delivery.browse(action["res_id"])
        self.assertEqual(redelivery.redelivery_of_id, original)
        self.assertEqual(redelivery.webhook_id, original.webhook_id)
        self.assertEqual(redelivery.payload, original.payload)
        self.assertEqual((redelivery.state, redelivery.attempts), ("pending", 0))
        self.assertEqual(original.state, "delivered")  # its history stays
        self._run_jobs()
        self.assertEqual(redelivery.state, "delivered")
        first, second = receiver.requests
        self.assertEqual((first["id"], first["body"]), (second["id"], second["body"]))
        self.assertEqual(receiver.processed, [original.webhook_id])  # the receiver dedupes it

        endpoint.active = False
        with self.assertRaises(UserError):
            original.action_redeliver()
        user = new_test_user(
            self.env,
            login="spd_webhook_reader",
            groups="base.group_user,semantic_product_description.semantic_product_description_group_user",
        )
        endpoint.active = True
        with self.assertRaises(AccessError):
            original.with_user(user).action_redeliver()

    def test_old_deliveries_are_cleaned_up(self):
        endpoint = self._endpoint(url="https://1.1.1.1/hook")
        self._create_product("Mulgara Mat")
        self._create_product("Mulgara Rug")
        old, recent = self._deliveries(endpoint)
        (old | recent).write({"result": "delivered"})
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE semantic_webhook_delivery SET write_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=31), old.id],
        )
        self.Delivery._gc_old_deliveries()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())

    # ------------------------------------------------------------------
    # Who may change what
    # ------------------------------------------------------------------

    def _manager(self, login="spd_webhook_manager"):
        return new_test_user(
            self.env,
            login=login,
            groups="base.group_user,semantic_product_description.semantic_product_description_group_manager",
        )

    def test_deliveries_are_immutable_for_managers(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.created"])
        self._create_product("Bilby Bowl")
        self._run_jobs()
        original = self._deliveries(endpoint)
        manager = self._manager()
        forged = {"payload": '{"type": "product.deleted"}', "webhook_id": "msg_forged", "endpoint_id": endpoint.id}
        for field, value in forged.items():
            with self.assertRaises(AccessError, msg=field):
                original.with_user(manager).write({field: value})
        with self.assertRaises(AccessError):
            self.Delivery.with_user(manager).create(
                {
                    "endpoint_id": endpoint.id,
                    "company_id": endpoint.company_id.id,
                    "event_type": "product.updated",
                    "webhook_id": "msg_forged",
                    "payload": "{}",
                }
            )
        with self.assertRaises(AccessError):  # nor through the endpoint's one2many
            endpoint.with_user(manager).write({"delivery_ids": [Command.update(original.id, {"payload": "{}"})]})
        # redelivering (same bytes, same id) stays theirs
        action = original.with_user(manager).action_redeliver()
        redelivery = self.Delivery.browse(action["res_id"])
        self.assertEqual((redelivery.payload, redelivery.webhook_id), (original.payload, original.webhook_id))

    def test_moving_an_endpoint_needs_the_system_group_or_rotates_the_secret(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver)
        endpoint.action_show_secret()
        secret = endpoint.sudo().secret
        manager = self._manager()
        endpoint.with_user(manager).write({"name": "Renamed"})  # other fields keep the secret
        self.assertEqual(endpoint.sudo().secret, secret)
        endpoint.with_user(manager).write({"url": "https://1.1.1.1/elsewhere"})
        self.assertNotEqual(endpoint.sudo().secret, secret)  # the new receiver cannot use the old secret
        self.assertFalse(endpoint.secret_revealed)  # an administrator shows the new one
        self.assertIn("rotated", endpoint.message_ids[0].body)
        secret = endpoint.sudo().secret
        admin = self.env.ref("base.user_admin")
        endpoint.with_user(admin).write({"url": "https://1.1.1.2/hook"})
        self.assertEqual(endpoint.sudo().secret, secret)

    # ------------------------------------------------------------------
    # Pause, health
    # ------------------------------------------------------------------

    def test_paused_endpoint_queues_without_sending(self):
        receiver = self._receiver()
        endpoint = self._endpoint(receiver, events=["product.created"])
        endpoint.action_pause()
        self.assertEqual(endpoint.health, "paused")
        self._create_product("Potoroo Plate")
        delivery = self._deliveries(endpoint)
        self.assertTrue(delivery)  # still queued
        self._run_jobs()
        self.assertEqual(receiver.requests, [])
        self.assertEqual((delivery.state, delivery.attempts), ("pending", 0))  # no retry used up
        self.assertGreater(delivery.job_id.eta, fields.Datetime.now())  # postponed
        endpoint.action_resume()
        self.assertFalse(delivery.job_id.eta)  # due at once
        self._run_jobs()
        self.assertEqual(delivery.state, "delivered")
        self.assertEqual(len(receiver.requests), 1)

    def test_health_follows_the_deliveries(self):
        receiver = self._receiver(statuses=[500, 503])
        endpoint = self._endpoint(receiver, events=["product.created"])
        self.assertEqual((endpoint.health, endpoint.consecutive_failures), ("unknown", 0))
        self._create_product("Wombat Bin")
        self._create_product("Wombat Box")
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        endpoint.invalidate_recordset()
        self.assertEqual((endpoint.health, endpoint.consecutive_failures), ("failing", 2))
        self.assertTrue(endpoint.last_failure_at)
        self.assertFalse(endpoint.last_success_at)
        self.assertIn("HTTP 50", endpoint.last_failure_message)
        self._make_deliveries_due(self._deliveries(endpoint))
        self._run_jobs()
        endpoint.invalidate_recordset()
        self.assertEqual((endpoint.health, endpoint.consecutive_failures), ("ok", 0))
        self.assertTrue(endpoint.last_success_at)

    def test_connection_failure_is_shown_as_such(self):
        endpoint = self._endpoint(url=f"http://127.0.0.1:{free_port()}/down", events=["product.created"])
        self._create_product("Quoll Cup")
        with mute_logger(DELIVERY_LOGGER):
            self._run_jobs()
        delivery = self._deliveries(endpoint)
        self.assertTrue(delivery.last_error.startswith("no answer: connection failed"), delivery.last_error)
        self.assertNotIn("HTTP 0", delivery.last_error)
        self.assertFalse(delivery.last_status_code)
        endpoint.invalidate_recordset()
        self.assertEqual(endpoint.health, "failing")
        self.assertIn("connection failed", endpoint.last_failure_message)
        view = self.Delivery.get_view(view_type="list")["arch"]
        self.assertIn('name="last_status_code" optional="show" invisible="not last_status_code"', view)
