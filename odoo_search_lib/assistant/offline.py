"""The offline assistant: deterministic intent detection, retrieval through the ports, templates.

One call answers the customer's latest request, which is every customer message since
the assistant or an agent last spoke (a burst of short messages is one request):

1. silence when a human agent has spoken since the assistant last did, or after a handoff;
2. the guard (:mod:`.guard`): manipulation, forbidden actions, complaints, requests for a person;
3. coupon codes the customer names are looked up; one the shop does not have is a manipulation;
4. rule topics (hours, delivery, payment...) from keywords; the product from a catalogue search
   with the question words removed, accepted only above the match confidence; a follow-up
   without a product ("e de 220v?", "no pix sai quanto?") is searched again with the earlier
   messages of the conversation;
5. the answer: each product mentioned is read live through the port (price, stock, variants),
   never promised when out of stock; variants that matter are named, or one short question
   asked when there are too many; rules valid today only, with an explanation when a
   promotion or coupon the customer names is expired or not started; product and rule
   combined for Pix prices, free shipping and coupon coverage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..enrich import strip_html
from ..text import Analyzer, fold, tokenize
from . import guard
from .channels import split_message
from .language import PHRASES, detect_language, format_money
from .ports import CatalogPort, ProductInfo, Rule, RuleMatch, RulesPort, Variant
from .types import Citation, Conversation, Message, Reply

__all__ = ["AssistantSettings", "OfflineAssistant", "Plan"]

TOPIC_WORDS = {
    "hours": "horario horarios hora horas abre abrem abertos aberto aberta fecha fecham funciona funcionam "
    "funcionamento domingo "
    "domingos sabado sabados feriado feriados hours open opening close closing",
    "delivery": "entrega entregas entregam entregar frete fretes gratis free prazo envio enviam enviar sedex correios "
    "transportadora shipping delivery deliver ship",
    "payment": "pagamento pagar pago pix boleto cartao credito debito parcela parcelas parcelar parcelado parcelo "
    "vezes juros payment pay installments installment card",
    "returns": "troca trocas trocar devolucao devolver arrependimento return returns exchange",
    "warranty": "garantia warranty",
    "pickup": "retirar retirada retiro buscar pickup",
    "promotion": "promocao promocoes promo promos oferta ofertas liquidacao desconto descontos sale promotion "
    "promotions deal deals blackfriday friday saldao queima off",
    "coupon": "cupom cupons cupon coupon coupons voucher codigo",
}
_TOPIC_OF = {word: topic for topic, words in TOPIC_WORDS.items() for word in words.split()}
#: Topics whose rules combine with a product (a Pix price, free shipping, a coupon, a promotion).
COMBINING = frozenset({"payment", "delivery", "coupon", "promotion"})
_QUESTION_WORDS = frozenset(
    """preco precos quanto quanta custa custam valor valores sai fica ficaria ainda estoque disponivel disponiveis
    vende vendem voces vcs vc tem tens teria temos tinha algum alguma queria quero gostaria saber informacao info
    modelo opcao opcoes boa bom noite tarde dia oi ola ok blz beleza pfv pf favor moca moco ai pra mim hoje agora
    esse essa desse dessa isso e ne la sim nao qual quais comprar compra chegou chega vale serve aceita aceitam
    price prices cost costs much how stock available sell have do you still any got buy is there what which
    hello hi please thanks ok the a an""".split()
)
_THANKS = re.compile(r"\b(obrigad\w*|valeu|vlw|brigad\w*|thanks?|thank you|thx)\b")
_FOLLOW_UP = re.compile(r"\b(ele|ela|esse|essa|desse|dessa|dele|dela|nele|nela|it|this|that|one|mesmo|mesma)\b")
VARIANT_ORDER = ("voltage", "size", "colour")
#: Words that only name a variant (a voltage, a clothing size, a colour): alone they are not a product.
_VARIANT_WORD = re.compile(
    r"\d+v|v|\d+|bivolt|volts?|voltagem|pp|p|m|g|gg|xg|xgg|tamanho|numero|cor|"
    r"pret[oa]s?|branc[oa]s?|azul|azuis|verde|verdes|vermelh[oa]s?|rosa|cinza|amarel[oa]s?|roxo|roxa|bege|"
    r"marrom|dourad[oa]|prata|prateado|inox|black|white|blue|green|red|pink|grey|gray"
)
_HANDOFF_KEYS = tuple(key for key in PHRASES["pt"] if key.startswith("handoff_"))
#: Which attachment a note names when several came: the one least likely to be a mere illustration.
_ATTACHMENT_ORDER = ("audio", "video", "image")


@dataclass(frozen=True)
class AssistantSettings:
    """How the assistant behaves; nothing here can be changed by what a customer writes."""

    language: str = "pt"  # the shop's language: for undecided messages and agent summaries
    channel: str | None = None  # overrides the conversation's channel for the length limit
    min_confidence: float = 0.5  # a product or rule below this match confidence is not "found"
    max_messages: int = 50  # only the last messages of a conversation are read
    max_message_chars: int = 2000  # longer messages are cut (a 50 kB paste answers like its start)
    max_options: int = 4  # more variants than this: ask one question instead of listing them
    search_limit: int = 8


@dataclass
class Plan:
    """What the offline engine decided and found; the LLM mode reuses it for its fallback and facts."""

    language: str
    request: str
    handoff: str | None = None
    silent: bool = False
    lines: list[str] = field(default_factory=list)
    products: list[ProductInfo] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    low_confidence: bool = False
    attachment: str | None = None  # the kind of what came with the request (the first, by importance)


class OfflineAssistant:
    """Answer a conversation from a catalogue port and a rules port, without any network."""

    def __init__(self, catalog: CatalogPort, rules: RulesPort, settings: AssistantSettings | None = None) -> None:
        self.catalog = catalog
        self.rules = rules
        self.settings = settings or AssistantSettings()
        self.analyzer = Analyzer("pt")

    # -- public --------------------------------------------------------------------------------

    def reply(self, conversation: Conversation, *, at: dt.date | None = None) -> Reply:
        plan = self.plan(conversation, at=at or dt.date.today())
        return self.render(plan, conversation)

    def render(
        self, plan: Plan, conversation: Conversation, *, text: str | None = None, mode: str = "offline"
    ) -> Reply:
        """Turn a plan (or a checked LLM text resting on the plan's records) into a :class:`Reply`."""
        phrases = PHRASES[plan.language]
        citations = tuple(
            [Citation("product", product.id) for product in plan.products]
            + [Citation("rule", rule.id) for rule in plan.rules]
        )
        if plan.silent:
            return Reply((), citations, True, plan.handoff, plan.language, None, mode)
        if plan.handoff:
            body = phrases[f"handoff_{plan.handoff}"] if text is None else text
            body = body.format(attachment=self._attachment_noun(plan)) if text is None else body
            summary = self._summary(plan)
        else:
            body = text if text is not None else " ".join(plan.lines)
            summary = None
        body = self.with_attachment_note(plan, body)
        channel = self.settings.channel or conversation.channel
        parts = tuple(split_message(body, channel))
        return Reply(parts, citations, plan.handoff is not None, plan.handoff, plan.language, summary, mode)

    def with_attachment_note(self, plan: Plan, body: str) -> str:
        """``body`` preceded by a note that the attachments were not read (unless it is a handoff about them)."""
        if not plan.attachment or plan.handoff == "attachment" or plan.silent:
            return body
        phrases = PHRASES[plan.language]
        return f"{phrases['attachment_note'].format(attachment=self._attachment_noun(plan))} {body}".strip()

    @staticmethod
    def _attachment_noun(plan: Plan) -> str:
        phrases = PHRASES[plan.language]
        return phrases.get(f"attachment_{plan.attachment}", phrases["attachment_other"])

    def plan(self, conversation: Conversation, *, at: dt.date) -> Plan:
        messages = self.clean_messages(conversation.messages)
        last_other = max((i for i, m in enumerate(messages) if m.role != "customer"), default=-1)
        burst = [m for m in messages[last_other + 1 :] if m.role == "customer"]
        earlier = [m.text for m in messages[: last_other + 1] if m.role == "customer"]
        request = " ".join(m.text for m in burst if m.text)[: self.settings.max_message_chars * 2]
        language = detect_language(request, detect_language(" ".join(earlier[-3:]), self.settings.language))
        plan = Plan(language, request)
        kinds = [kind for m in burst for kind in m.attachments]
        if kinds:
            plan.attachment = next((k for k in _ATTACHMENT_ORDER if k in kinds), "other")
        if last_other >= 0 and self._stays_silent(messages, last_other):
            plan.silent, plan.handoff = True, "agent_active"
            return plan
        reason = guard.check(request)
        if reason:
            plan.handoff = reason
            return plan
        if plan.attachment and not self.analyzer.words(request):
            plan.handoff = "attachment"  # an audio or a photo alone: only a person can answer it
            return plan
        try:
            self._answer(plan, earlier, at, messages)
        except Exception:  # a failing port must not crash a conversation: a person takes over
            plan.handoff, plan.lines, plan.products, plan.rules = "unavailable", [], [], []
        if plan.attachment and not (plan.products or plan.rules) and plan.handoff != "unavailable":
            # "tem esse?" with a photo, "oi" with an audio: the question is in what we cannot read
            plan.handoff, plan.lines = "attachment", []
        return plan

    # -- steps ---------------------------------------------------------------------------------

    def clean_messages(self, messages: Sequence[Message]) -> list[Message]:
        cleaned = []
        for message in list(messages)[-self.settings.max_messages :]:
            text = message.text if isinstance(message.text, str) else ""
            text = text[: self.settings.max_message_chars * 4]
            if "<" in text and ">" in text:
                text = strip_html(text)
            text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
            text = " ".join(text.split())[: self.settings.max_message_chars]
            kinds = message.attachments if isinstance(message.attachments, tuple) else ()
            cleaned.append(Message(message.role, text, tuple(str(kind) for kind in kinds[:20])))
        return cleaned

    def _stays_silent(self, messages: Sequence[Message], last_other: int) -> bool:
        """A human agent spoke after the assistant last did, or the assistant's last word was a handoff."""
        last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
        last_agent = max((i for i, m in enumerate(messages) if m.role == "agent"), default=-1)
        if last_agent > last_assistant:
            return True
        text = messages[last_assistant].text if last_assistant >= 0 else ""
        return any(text.startswith(PHRASES[lang][key].split("{")[0][:40]) for lang in PHRASES for key in _HANDOFF_KEYS)

    def _answer(self, plan: Plan, earlier: list[str], at: dt.date, messages: Sequence[Message]) -> None:
        request = plan.request
        phrases = PHRASES[plan.language]
        folded = fold(request)
        words = tokenize(request)
        topics = {_TOPIC_OF[word] for word in words if word in _TOPIC_OF}
        if "black" in words and "friday" in words:
            topics.add("promotion")
        codes = guard.coupon_mentions(request)
        coupons: list[Rule] = []
        for code in codes:
            found = [m.rule for m in self.rules.search(code, at=at, limit=5, valid_only=False) if m.rule.code == code]
            if not found:
                plan.handoff = "manipulation"  # a coupon the shop does not have
                return
            coupons.append(found[0])
            topics.add("coupon")
        product_query = self._product_query(request, codes)
        content = self.analyzer.words(product_query)
        # "e de 220v?", "ela é bivolt?", "no pix sai quanto?": about the product of the earlier messages
        follow_up = bool(earlier) and (
            all(_VARIANT_WORD.fullmatch(word) for word in content) or bool(_FOLLOW_UP.search(folded))
        )
        products = [] if follow_up else self._find_products(product_query)
        if not products and earlier and (follow_up or topics & COMBINING or len(content) <= 3):
            for back in range(1, min(3, len(earlier)) + 1):
                context = self._product_query(" ".join(earlier[-back:]), codes)
                products = self._find_products(f"{context} {product_query}".strip())
                if products:
                    break
        if products:
            self._answer_products(plan, products, request + " " + " ".join(earlier[-2:]), phrases)
        if (topics or coupons or not products) and self.analyzer.words(request):
            self._answer_rules(plan, request, topics, coupons, at, phrases)
        if plan.lines:
            return
        if not self.analyzer.words(product_query) and not topics:
            plan.lines.append(phrases["thanks"] if _THANKS.search(folded) else phrases["greeting"])
            return
        plan.low_confidence = True
        previous = [m.text for m in messages if m.role == "assistant"][-1:]
        if previous and any(previous[0].startswith(PHRASES[lang]["not_found"][:30]) for lang in PHRASES):
            plan.handoff = "low_confidence"
            return
        plan.lines.append(phrases["rule_not_found"] if topics and not products else phrases["not_found"])
        if topics and not products:
            plan.handoff = "low_confidence"

    def _product_query(self, text: str, codes: Sequence[str]) -> str:
        drop = set(_QUESTION_WORDS) | set(_TOPIC_OF) | {fold(code) for code in codes}
        kept = [word for word in re.findall(r"\w+", fold(text)) if word not in drop]
        return " ".join(kept)[:500]

    def _find_products(self, query: str) -> list[ProductInfo]:
        """Confident matches, read live (vanished ones skipped), grouped: one entry per variant family."""
        if not self.analyzer.words(query):
            return []
        matches = self.catalog.search(query, limit=self.settings.search_limit)
        confident = [m for m in matches if m.confidence >= self.settings.min_confidence]
        if not confident:
            return []
        best = confident[0].confidence
        heads = [word for word in self.analyzer.words(query) if not _VARIANT_WORD.fullmatch(word)]
        head = self.analyzer.stem(heads[0]) if heads else None
        found: list[ProductInfo] = []
        seen: set[str] = set()
        head_named = False
        for match in confident:
            if match.id in seen or match.confidence < best - 0.1 or len(found) >= 3:
                continue
            info = self.catalog.get(match.id)
            if info is None:
                continue
            named = head is not None and head in {self.analyzer.stem(w) for w in self.analyzer.words(info.name)}
            if not found:
                head_named = named
            elif head_named and not named:
                continue  # the best match names what was asked: others only when they name it too
            seen.update(variant.id for variant in info.variants)
            seen.add(info.id)
            found.append(info)
        return found

    def _answer_products(self, plan: Plan, products: list[ProductInfo], context: str, phrases: dict[str, str]) -> None:
        tokens = set(tokenize(context))
        stems = {self.analyzer.stem(token) for token in tokens}
        for rank, info in enumerate(products):
            variants = list(info.variants) or [_as_variant(info)]
            chosen = [v for v in variants if self._matches(v, tokens, stems)]
            if not chosen:
                chosen = variants if rank == 0 else [_as_variant(info)]
            if rank > 0:  # other products: the best one in stock, briefly
                in_stock = [v for v in chosen if v.in_stock] or chosen
                plan.lines.append(self._variant_line(in_stock[0], in_stock[0].name, phrases))
                plan.products.append(info)
                continue
            plan.products.append(info)
            if len(chosen) == 1:
                plan.lines.append(self._variant_line(chosen[0], chosen[0].name, phrases))
                if not chosen[0].in_stock:
                    others = [v for v in variants if v.in_stock and v.id != chosen[0].id]
                    if others and len(others) <= self.settings.max_options:
                        plan.lines.extend(
                            phrases["alternative"].format(name=v.name, price=self._money(v.price, v.currency, plan))
                            for v in others
                        )
                    elif others:
                        plan.lines.append(self._question(others, phrases))
                continue
            if len(chosen) <= self.settings.max_options:
                family = _common_prefix([v.name for v in chosen])
                plan.lines.append(phrases["options_intro"].format(name=family))
                differing = [k for k in VARIANT_ORDER if len({v.options.get(k, "") for v in chosen}) > 1]
                for variant in chosen:
                    label = " / ".join(variant.options[k] for k in differing if k in variant.options) or variant.name
                    plan.lines.append(
                        phrases["option"].format(
                            option=label,
                            price=self._money(variant.price, variant.currency, plan),
                            stock=phrases["stock_yes"] if variant.in_stock else phrases["stock_no"],
                        )
                    )
            else:
                plan.lines.append(self._question(chosen, phrases))

    def _matches(self, variant: Variant, tokens: set[str], stems: set[str]) -> bool:
        """Whether every option the customer named for this variant's kinds matches it."""
        named = 0
        for value in variant.options.values():
            parts = tokenize(value)
            if parts and all(part in tokens or self.analyzer.stem(part) in stems for part in parts):
                named += 1
        return named > 0

    def _question(self, variants: Sequence[Variant], phrases: dict[str, str]) -> str:
        for kind in VARIANT_ORDER:
            values = list(dict.fromkeys(v.options[kind] for v in variants if v.options.get(kind)))
            if len(values) > 1:
                shown = values[:6]
                listed = ", ".join(shown[:-1]) + f" {phrases['or']} {shown[-1]}"
                name = _common_prefix([v.name for v in variants])
                return phrases["ask"].format(name=name, values=listed, dimension=phrases[f"dimension_{kind}"])
        return phrases["ask"].format(
            name=_common_prefix([v.name for v in variants]),
            values=", ".join(v.name for v in variants[:3]),
            dimension=phrases["dimension_size"],
        )

    def _variant_line(self, variant: Variant, name: str, phrases: dict[str, str]) -> str:
        if not variant.in_stock:
            return phrases["out_of_stock"].format(name=name)
        if variant.price is None:
            return phrases["no_price"].format(name=name)
        language = "pt" if phrases is PHRASES["pt"] else "en"
        return phrases["in_stock"].format(name=name, price=format_money(variant.price, variant.currency, language))

    def _money(self, amount: float | None, currency: str, plan: Plan) -> str:
        return "-" if amount is None else format_money(amount, currency, plan.language)

    # -- rules ---------------------------------------------------------------------------------

    def _answer_rules(
        self, plan: Plan, request: str, topics: set[str], coupons: list[Rule], at: dt.date, phrases: dict[str, str]
    ) -> None:
        """Rules valid today for the request's topics; a named expired or future rule is explained, not offered."""
        used: list[Rule] = []

        def add(rule: Rule, line: str) -> None:
            plan.lines.append(line)
            used.append(rule)

        for coupon in coupons:
            if not coupon.valid_at(at):
                add(coupon, self._invalid_line(coupon, at, phrases))
        asked = self._distinctive(request, {fold(c.code) for c in coupons})
        matches = list(self.rules.search(request, at=at, limit=8, valid_only=False))
        valid = [m.rule for m in matches if m.rule.valid_at(at)]
        invalid = self._named_invalid(asked, matches, valid, at)
        if invalid is not None and invalid not in used:
            add(invalid, self._invalid_line(invalid, at, phrases))
        product = plan.products[0] if plan.products else None
        variant = self._priced_variant(product, request) if product else None
        if product is not None and variant is not None and topics & COMBINING:
            for rule in self._covering(product, variant, request, topics, at):
                if rule not in used and rule not in coupons:  # a named coupon gets its own line below
                    add(rule, phrases["rule"].format(title=rule.title, text=rule.text))
        valid_coupons = [c for c in coupons if c.valid_at(at)]
        for topic in VALID_TOPIC_ORDER:
            if topic in topics:
                self._topic_rules(plan, topic, valid, valid_coupons, used, request, variant, phrases)
        if not topics and not plan.products and not used:
            # no topic word and no product: a question the rules may still answer ("a loja é confiável?")
            best = [m for m in matches if m.rule.valid_at(at) and m.confidence >= self.settings.min_confidence]
            if best:
                add(best[0].rule, phrases["rule"].format(title=best[0].rule.title, text=best[0].rule.text))
        plan.rules.extend(rule for rule in used if rule not in plan.rules)

    def _topic_rules(
        self,
        plan: Plan,
        topic: str,
        valid: list[Rule],
        valid_coupons: list[Rule],
        used: list[Rule],
        request: str,
        variant: Variant | None,
        phrases: dict[str, str],
    ) -> None:
        """The best valid rule of one topic (up to three promotions or coupons), combined with the product."""
        candidates = [r for r in valid if r.topic == topic]
        if topic in ("promotion", "coupon"):
            candidates = [r for r in valid if r.topic == "promotion" or r.code]
            if topic == "coupon":
                candidates = valid_coupons or [r for r in candidates if r.code]
            if variant is not None and plan.products and not (topic == "coupon" and valid_coupons):
                category = plan.products[0].category
                candidates = [r for r in candidates if r.covers(variant.id, category)]
                candidates.sort(key=lambda r: not (r.products or r.categories))
            if not candidates:
                if not used and topic == "promotion":
                    plan.lines.append(phrases["no_promotion"])
                return
        limit = 3 if topic in ("promotion", "coupon") else 1
        for rule in [r for r in candidates if r not in used][:limit]:
            line = self._combined_line(rule, topic, request, variant, plan, phrases)
            if line:
                plan.lines.append(line)
            plan.lines.append(phrases["rule"].format(title=rule.title, text=rule.text))
            used.append(rule)

    def _named_invalid(
        self, asked: set[str], matches: Sequence[RuleMatch], valid: list[Rule], at: dt.date
    ) -> Rule | None:
        """An expired or future rule the request names more closely than any valid rule of its topic."""
        for match in matches:
            rule = match.rule
            if rule.valid_at(at):
                continue
            named = len(asked & self._names_of(rule))
            rivals = [len(asked & self._names_of(r)) for r in valid if r.topic == rule.topic]
            if named > max(rivals, default=0):
                return rule
        return None

    def _names_of(self, rule: Rule) -> set[str]:
        return self._distinctive(rule.title + " " + " ".join(rule.tags))

    def _covering(
        self, product: ProductInfo, variant: Variant, request: str, topics: set[str], at: dt.date
    ) -> list[Rule]:
        """Valid promotions limited to this product or its category that bear on the topics (free shipping...)."""
        found = []
        for match in self.rules.search(f"{variant.name} {request}", at=at, limit=8, valid_only=True):
            rule = match.rule
            if not (rule.products or rule.categories) or not rule.covers(variant.id, product.category):
                continue
            if rule.topic in topics or (rule.topic == "promotion" and topics & {"delivery", "coupon"}):
                found.append(rule)
        return found

    def _distinctive(self, text: str, drop: set[str] | None = None) -> set[str]:
        """Stems of ``text`` that name something (not topic or question words, not coupon codes)."""
        drop = drop or set()
        words = [w for w in self.analyzer.words(text) if w not in _TOPIC_OF and w not in _QUESTION_WORDS]
        words = [w for w in words if w not in drop and not any(w in code for code in drop)]
        return {self.analyzer.stem(w) for w in words if not w.isdigit()}

    def _priced_variant(self, product: ProductInfo, request: str) -> Variant | None:
        variants = list(product.variants) or [_as_variant(product)]
        tokens = set(tokenize(request))
        stems = {self.analyzer.stem(token) for token in tokens}
        chosen = [v for v in variants if self._matches(v, tokens, stems)] or variants
        prices = {v.price for v in chosen}
        return chosen[0] if len(prices) == 1 and chosen[0].price is not None else None

    def _combined_line(
        self, rule: Rule, topic: str, request: str, variant: Variant | None, plan: Plan, phrases: dict[str, str]
    ) -> str | None:
        if variant is None or variant.price is None:
            return None
        name, price = variant.name, variant.price
        money = lambda amount: format_money(amount, variant.currency, plan.language)  # noqa: E731
        is_pix = rule.payment == "pix" or "pix" in fold(rule.title)
        if topic == "payment" and is_pix and rule.percent and "pix" in fold(request):
            discounted = round(price * (1 - rule.percent / 100), 2)
            percent = f"{rule.percent:g}%"
            return phrases["pix"].format(name=name, price=money(discounted), percent=percent)
        if topic == "delivery" and rule.min_amount is not None and "gratis" in fold(rule.title + " " + rule.text):
            key = "shipping_yes" if price >= rule.min_amount else "shipping_no"
            return phrases[key].format(name=name, amount=money(rule.min_amount))
        if topic == "coupon" and rule.code and plan.products:
            category = plan.products[0].category
            line = phrases["coupon_yes" if rule.covers(variant.id, category) else "coupon_no"].format(
                code=rule.code, name=name
            )
            if rule.min_amount is not None:
                line += " " + phrases["coupon_min"].format(code=rule.code, amount=money(rule.min_amount))
            return line
        return None

    def _invalid_line(self, rule: Rule, at: dt.date, phrases: dict[str, str]) -> str:
        if rule.valid_until is not None and rule.valid_until < at:
            return phrases["rule_invalid_past"].format(title=rule.title, date=rule.valid_until.strftime("%d/%m/%Y"))
        start = rule.valid_from or at
        return phrases["rule_invalid_future"].format(title=rule.title, date=start.strftime("%d/%m/%Y"))

    def _summary(self, plan: Plan) -> str:
        said = plan.request[:280] + ("…" if len(plan.request) > 280 else "")
        parts = [f"Motivo: {plan.handoff}.", f'Cliente ({plan.language}): "{said}"']
        if plan.products:
            parts.append("Produtos: " + ", ".join(f"{p.name} ({p.id})" for p in plan.products[:3]) + ".")
        return " ".join(parts)


VALID_TOPIC_ORDER = ("coupon", "promotion", "payment", "delivery", "pickup", "hours", "returns", "warranty")


def _as_variant(info: ProductInfo) -> Variant:
    from .adapters import variant_options

    return Variant(info.id, info.name, info.price, info.currency, info.in_stock, variant_options(info.attributes))


def _common_prefix(names: Sequence[str]) -> str:
    """The words all names start with ("Cafeteira Elétrica 30 Xícaras Preta" of its 110V and 220V)."""
    split = [name.split() for name in names]
    prefix: list[str] = []
    for words in zip(*split, strict=False):
        if len(set(words)) != 1:
            break
        prefix.append(words[0])
    return " ".join(prefix) or names[0]
