# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import FakeLLMServer, SemanticSearchTestMixin, free_port


@tagged("post_install", "-at_install")
class TestSemanticDescription(SemanticSearchTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_semantic_search()
        cls.product = cls._create_product("Enamel Kettle", default_code="KET-01")
        cls.salesman = new_test_user(
            cls.env,
            login="spd_salesman",
            groups="base.group_user,product.group_product_manager",
        )

    def test_generate_with_template_writer(self):
        product = self.product.with_user(self.salesman)
        messages_before = self.product.message_ids
        result = product.action_generate_semantic_description()
        self.assertIs(result, True)
        text = self.product.semantic_description
        self.assertTrue(text)
        for fact in ("enamel kettle", "kitchen", "red", "blue", "steel", "ket-01"):
            self.assertIn(fact, text.lower(), f"{fact!r} missing from the description")
        self.assertNotIn("49.90", text, "the price goes stale: never stored in a description")
        self.assertEqual(self.product.semantic_description_source, "template")
        self.assertTrue(self.product.semantic_keywords)
        new_messages = self.product.message_ids - messages_before
        self.assertEqual(len(new_messages), 1)
        self.assertEqual(new_messages.author_id, self.salesman.partner_id)
        self.assertIn("generated with the template writer", new_messages.body)
        self.assertIn("nothing flagged", new_messages.body)
        # the change is queued for the index
        self.assertTrue(self._sync_jobs(self.product))

    def test_generate_in_portuguese(self):
        self._set_params(language="pt")
        self.env["res.lang"]._activate_lang("pt_BR")
        self.product.action_generate_semantic_description()
        self.assertIn("Enamel Kettle", self.product.semantic_description)
        self.assertIn("faz parte da nossa seção de Kitchen", self.product.semantic_description)
        self.assertNotIn("49,90", self.product.semantic_description)
        note = self.product.message_ids.sorted("id")[-1].body
        language = dict(self.env["res.lang"].get_installed())["pt_BR"]
        self.assertIn(f"({language})", note, "the language by name, not its code")

    def test_manual_edit_sets_source_manual(self):
        self.product.action_generate_semantic_description()
        self.product.semantic_description = "Handmade kettle, 1.5 L."
        self.assertEqual(self.product.semantic_description_source, "manual")

    def test_user_without_group_cannot_generate(self):
        user = new_test_user(self.env, login="spd_plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.product.with_user(user).action_generate_semantic_description()

    def test_llm_with_findings_opens_review_wizard(self):
        invented = "Enamel Kettle in red and blue steel, 2 L capacity, 220V, 5 year warranty."
        with FakeLLMServer(invented) as llm:
            self._set_params(description_writer="llm", llm_base_url=llm.url, llm_model="fake-model")
            action = self.product.action_generate_semantic_description()
        self.assertEqual(len(llm.requests), 1)
        self.assertEqual(action["res_model"], "semantic.description.wizard")
        self.assertFalse(self.product.semantic_description, "nothing may be saved silently")
        wizard = self.env["semantic.description.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.description, invented)
        self.assertTrue(wizard.findings)
        self.assertIn("220V", wizard.findings_html)
        wizard.action_accept()
        self.assertEqual(self.product.semantic_description, invented)
        self.assertEqual(self.product.semantic_description_source, "llm")
        body = self.product.message_ids.sorted("id")[-1].body
        self.assertIn("accepted it despite", body)

    def test_llm_review_wizard_saves_the_edited_text(self):
        invented = "Enamel Kettle in red and blue steel, 2 L capacity, 220V, 5 year warranty."
        with FakeLLMServer(invented) as llm:
            self._set_params(description_writer="llm", llm_base_url=llm.url, llm_model="fake-model")
            action = self.product.action_generate_semantic_description()
        wizard = self.env["semantic.description.wizard"].browse(action["res_id"])
        self.assertEqual(wizard.description, invented)
        # the user removes the invented facts in the dialog before accepting
        edited = "Enamel Kettle in red and blue steel."
        wizard.write({"description": edited, "keywords": "enamel kettle, steel kettle"})
        wizard.action_accept()
        self.assertEqual(self.product.semantic_description, edited)
        self.assertNotIn("220V", self.product.semantic_description)
        self.assertEqual(self.product.semantic_keywords, "enamel kettle, steel kettle")
        # the accepted proposal keeps its writer's source (not "manual"): see the wizard's action_accept
        self.assertEqual(self.product.semantic_description_source, "llm")
        self.assertIn("accepted it despite", self.product.message_ids.sorted("id")[-1].body)

    def test_llm_discard_keeps_product(self):
        with FakeLLMServer("Enamel Kettle, 3 L, 110V.") as llm:
            self._set_params(description_writer="llm", llm_base_url=llm.url, llm_model="fake-model")
            action = self.product.action_generate_semantic_description()
        wizard = self.env["semantic.description.wizard"].browse(action["res_id"])
        wizard.action_discard()
        self.assertFalse(self.product.semantic_description)

    def test_llm_clean_answer_is_saved(self):
        clean = "Enamel Kettle for the kitchen, in Red or Blue, made of Steel."
        with FakeLLMServer(clean, keywords=("kettle", "enamel")) as llm:
            self._set_params(description_writer="llm", llm_base_url=llm.url, llm_model="fake-model")
            result = self.product.action_generate_semantic_description()
        self.assertIs(result, True)
        self.assertEqual(self.product.semantic_description, clean)
        self.assertEqual(self.product.semantic_description_source, "llm")

    def test_llm_down_raises_user_error_and_changes_nothing(self):
        self.product.action_generate_semantic_description()
        before = self.product.semantic_description
        self._set_params(
            description_writer="llm",
            llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
            llm_model="fake-model",
            llm_api_key="sk-secret-do-not-show",
            llm_timeout="2",
        )
        with self.assertRaises(UserError) as caught:
            self.product.action_generate_semantic_description()
        self.assertIn("Nothing was changed", str(caught.exception))
        self.assertNotIn("sk-secret-do-not-show", str(caught.exception))
        self.assertEqual(self.product.semantic_description, before)

    def test_batch_action_describes_now_and_queues_the_rest(self):
        self._set_params(describe_sync_limit="1")
        products = self.product | self._create_product("Cast Iron Pan") | self._create_product("Bread Knife")
        action = products.with_user(self.salesman).action_generate_semantic_descriptions()
        self.assertEqual(action["tag"], "display_notification")
        self.assertTrue(products[0].semantic_description)
        self.assertFalse(products[1].semantic_description)
        queued = self._semantic_jobs(method_name="_semantic_job_describe")
        self.assertEqual(sorted(job.records.id for job in queued), sorted(products[1:].ids))
        self.assertEqual(set(queued.mapped("channel")), {"root.semantic.describe"})
        self._run_jobs()
        for product in products:
            self.assertIn(product.name, product.semantic_description)
        self.assertEqual(queued.mapped("state"), ["done", "done"])
        # the chatter names who asked, not the job's user
        last = products[2].message_ids.sorted("id")[-1]
        self.assertEqual(last.author_id, self.salesman.partner_id)

    def test_batch_with_the_language_model_is_all_queued(self):
        clean = "Kitchen item, made of Steel."
        products = self.product | self._create_product("Cast Iron Pan")
        with FakeLLMServer(clean, keywords=("kitchen",)) as llm:
            self._set_params(description_writer="llm", llm_base_url=llm.url, llm_model="fake-model")
            products.with_user(self.salesman).action_generate_semantic_descriptions()
            self.assertEqual(llm.requests, [])  # the HTTP request never waits for the model
            queued = self._semantic_jobs(method_name="_semantic_job_describe")
            self.assertEqual(sorted(job.records.id for job in queued), sorted(products.ids))
            self._run_jobs()
            self.assertEqual(len(llm.requests), 2)
        self.assertEqual(products.mapped("semantic_description_source"), ["llm", "llm"])
