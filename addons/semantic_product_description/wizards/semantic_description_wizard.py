# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from odoo_search_lib.enrich import Description, Finding


class SemanticDescriptionWizard(models.TransientModel):
    """Review an LLM description whose fact check flagged values before saving it."""

    _name = "semantic.description.wizard"
    _description = "Review Semantic Description"

    product_tmpl_id = fields.Many2one("product.template", string="Product", required=True, ondelete="cascade")
    description = fields.Text(string="Proposed Description", required=True)
    keywords = fields.Char()
    source = fields.Selection(selection=[("template", "Template writer"), ("llm", "Language model")], required=True)
    language = fields.Char(required=True)
    findings = fields.Json()
    findings_html = fields.Html(string="Fact Check", compute="_compute_findings_html", sanitize=True)

    @api.depends("findings")
    def _compute_findings_html(self):
        for wizard in self:
            wizard.findings_html = wizard.product_tmpl_id._semantic_findings_html(wizard._findings())

    def _findings(self):
        self.ensure_one()
        return tuple(
            Finding(kind=item.get("kind", "number"), value=item.get("value", ""), excerpt=item.get("excerpt", ""))
            for item in (self.findings or [])
        )

    @api.model
    def _open_for(self, product, description):
        wizard = self.create(
            {
                "product_tmpl_id": product.id,
                "description": description.text,
                "keywords": ", ".join(description.keywords),
                "source": description.source,
                "language": description.language,
                "findings": [finding.to_dict() for finding in description.findings],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Review the semantic description"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_accept(self):
        """Save the (possibly edited) proposal; the chatter notes that the findings were accepted."""
        self.ensure_one()
        self.product_tmpl_id.check_access("write")
        description = Description(
            text=self.description,
            keywords=tuple(word.strip() for word in (self.keywords or "").split(",") if word.strip()),
            source=self.source,
            findings=self._findings(),
            language=self.language,
        )
        self.product_tmpl_id._semantic_apply_description(description, accepted_findings=True)
        return {"type": "ir.actions.act_window_close"}

    def action_discard(self):
        """Keep the product as it is."""
        return {"type": "ir.actions.act_window_close"}
