# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.semantic_product_description.models.semantic_search_service import EDIT_SYNC_PRIORITY

from .common import BusinessRulesTestMixin


@tagged("post_install", "-at_install")
class TestBusinessRule(BusinessRulesTestMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_business_rules()

    def test_create_is_synced_by_a_job_and_searchable(self):
        rule = self._rule(
            "Frete grátis", "<p>Frete grátis para compras acima de R$ 299 em todo o Brasil.</p>", "delivery"
        )
        job = self._semantic_jobs(method_name="_business_rule_job_sync")
        self.assertEqual((len(job), job.channel, job.priority), (1, "root.semantic.index", EDIT_SYNC_PRIORITY))
        self.assertEqual(rule.index_state, "pending")
        self._run_jobs()
        self.assertEqual(rule.index_state, "indexed")
        self.assertEqual(self._found_rules("frete gratis", limit=3)[:1], [rule.id])

    def test_validity_is_judged_when_searching(self):
        expired = self._rule(
            "Black Friday", "Cupom BLACK20: 20% em tudo.", "promotion", valid_from=self.past, valid_to=self.yesterday
        )
        future = self._rule("Natal", "Cupom NATAL15: 15% em brinquedos.", "promotion", valid_from=self.tomorrow)
        current = self._rule("Semana do cliente", "Cupom CLIENTE10: 10% em tudo.", "promotion")
        self._run_jobs()
        self.assertEqual(
            (expired.validity_status, future.validity_status, current.validity_status),
            ("expired", "scheduled", "active"),
        )
        found = self._found_rules("cupom de desconto", limit=10)
        self.assertIn(current.id, found)
        self.assertNotIn(expired.id, found)
        self.assertNotIn(future.id, found)
        # the same index, asked about another moment: no reindex needed when time passes
        later = self._found_rules("cupom de desconto", limit=10, at=self.later.isoformat())
        self.assertIn(future.id, later)
        everything = self._found_rules("cupom de desconto", limit=10, include_inactive=True)
        self.assertTrue({expired.id, future.id, current.id} <= set(everything))
        self.assertEqual(
            self.Rule.search([("validity_status", "=", "expired"), ("id", "in", [expired.id, future.id])]), expired
        )

    def test_end_before_start_is_refused(self):
        with self.assertRaises(ValidationError):
            self._rule("Errada", "x", valid_from=self.tomorrow, valid_to=self.yesterday)
        self.assertFalse(
            self._semantic_jobs(method_name="_business_rule_job_sync").filtered(lambda job: not job.records.exists())
        )

    def test_huge_and_hostile_html(self):
        paragraph = "<p>Troca em até <b>7 dias</b> após o recebimento.</p><script>alert('x')</script>"
        rule = self._rule("Trocas", paragraph * (1_000_000 // len(paragraph) + 1), "returns")
        self.assertNotIn("<script", rule.content)
        self._run_jobs()
        self.assertEqual(rule.index_state, "indexed")
        result = self.service.search_rules("prazo para troca", limit=1)
        self.assertEqual(self.service._parse_rule_doc_id(result.hits[0].id), rule.id)
        self.assertNotIn("alert", result.hits[0].excerpt)

    def test_archive_and_delete_leave_the_index(self):
        rule = self._rule("Retirada na loja", "Retire seu pedido na loja da Savassi em 2 horas.", "pickup")
        self._run_jobs()
        self.assertIn(rule.id, self._found_rules("retirar na loja"))
        rule.active = False
        self._run_jobs()
        self.assertNotIn(rule.id, self._found_rules("retirar na loja"))
        self.assertEqual(rule.index_state, "excluded")
        rule.active = True
        self._run_jobs()
        rule_id = rule.id
        rule.unlink()
        self._run_jobs()
        self.assertNotIn(rule_id, self._found_rules("retirar na loja"))

    def test_companies_are_isolated(self):
        company_a = self.env["res.company"].create({"name": "Loja A"})
        company_b = self.env["res.company"].create({"name": "Loja B"})
        rule_a = self._rule("Pix A", "Pagamento por Pix com 5% de desconto.", "payment", company_id=company_a.id)
        rule_b = self._rule("Pix B", "Pagamento por Pix com 8% de desconto.", "payment", company_id=company_b.id)
        shared = self._rule("Boleto", "Pagamento por boleto em até 3 dias úteis.", "payment", company_id=False)
        self._run_jobs()
        found = self._found_rules("pagamento pix", company_ids=[company_a.id], limit=10)
        self.assertIn(rule_a.id, found)
        self.assertIn(shared.id, found)
        self.assertNotIn(rule_b.id, found)

    def test_types_filter(self):
        payment = self._rule("Parcelamento", "Parcele em até 12x sem juros no cartão.", "payment")
        faq = self._rule("Parcelas", "Sim, parcelamos.", "faq", question="Vocês parcelam no cartão?")
        self._run_jobs()
        self.assertEqual(self._found_rules("parcelar no cartao", types=["faq"]), [faq.id])
        self.assertIn(payment.id, self._found_rules("parcelar no cartao", types=["payment", "faq"]))

    def test_store_down_postpones_then_recovers(self):
        self._set_params(store_mode="qdrant", qdrant_url="http://127.0.0.1:9")
        rule = self._rule("Garantia", "Garantia de 12 meses do fabricante.", "warranty")
        self._run_jobs()
        job = self._semantic_jobs(method_name="_business_rule_job_sync")
        self.assertEqual((job.state, job.retry), ("pending", 1))
        self.assertEqual(rule.index_state, "pending")
        self._set_params(store_mode="edge")
        self._make_due(job)
        self._run_jobs()
        self.assertEqual(rule.index_state, "indexed")

    def test_sync_all_counts_indexed_and_removed(self):
        keep = self._rule("Horário", "Atendemos de segunda a sexta, das 8h às 18h.", "hours")
        gone = self._rule("Horário antigo", "Atendíamos aos domingos.", "hours")
        self._run_jobs()
        counts = self.service.sync_all_rules()
        self.assertEqual(counts["removed"], 0)
        self.assertGreaterEqual(counts["indexed"], 2)
        gone.with_context(semantic_search_no_enqueue=True).active = False
        counts = self.service.sync_all_rules()
        self.assertEqual(counts["removed"], 1)
        self.assertEqual(self.service.sync_all_rules()["removed"], 0)  # idempotent
        self.assertIn(keep.id, self._found_rules("horario de atendimento"))
        self.assertNotIn(gone.id, self._found_rules("horario de atendimento"))
