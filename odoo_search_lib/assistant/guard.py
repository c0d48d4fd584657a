"""What the assistant must hand to a person, decided before anything is looked up.

The checks run on the customer's latest request, folded (lower case, no accents),
in this order, the first one found wins:

1. ``manipulation``: attempts to change the assistant's instructions or role, fake
   ``SYSTEM:``/``[admin]`` messages, invented authority ("o gerente autorizou");
2. ``forbidden_action``: what only a person may do (cancel an order, refund, change
   an account's data, grant a discount the shop does not publish);
3. ``complaint``: complaints, anger, threats to go to Procon or Reclame Aqui;
4. ``customer_request``: the customer asks for a person.

A coupon the shop does not have is also ``manipulation``; that check needs the
rules and lives in the assistant. Patterns are ours (no package knows Brazilian
chat phrasing for these cases); each is a small regular expression over folded text.
"""

from __future__ import annotations

import re

from ..text import fold

__all__ = ["HANDOFF_REASONS", "check", "coupon_mentions"]

HANDOFF_REASONS = (
    "manipulation",
    "forbidden_action",
    "complaint",
    "customer_request",
    "low_confidence",
    "unavailable",
    "agent_active",
)


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_MANIPULATION = _any(
    r"\bignor\w*\b.{0,40}\b(instruc\w*|instruc|regras?|rules?|prompt|orientac\w*|comandos?|previous|above|anteriores?)",
    r"\b(desconsidere|esqueca|forget|disregard)\b.{0,40}\b(instruc\w*|regras?|rules?|prompt|tudo|everything)",
    r"^\s*\W{0,3}(system|sistema|admin|developer|desenvolvedor|root|assistant)\s*\W{0,3}\s*:",
    r"[\[<(]\s*(system|sistema|admin|developer)\s*[\]>)]",
    r"\b(system|sistema)\s*(prompt|message|mensagem)\b",
    r"\b(voce agora e|a partir de agora voce|you are now|act as|aja como|finja que|pretend (to be|you))\b",
    r"\b(modo|mode)\s+(desenvolvedor|developer|admin|dan|debug)\b",
    r"\b(jailbreak|prompt injection)\b",
    r"\b(gerente|dono|supervisor|manager|owner)\b.{0,30}\b(autorizou|liberou|aprovou|authori[sz]ed|approved)\b",
    r"\b(mostre|revele|show|reveal|print)\b.{0,30}\b(instruc\w*|prompt|configurac\w*|instructions|api key|senha)\b",
    r"\b(preco|price|valor)\b.{0,30}\b(agora e|is now|passa a ser|mude para|change (it )?to)\b",
)
_FORBIDDEN = _any(
    r"\b(cancel\w*)\b.{0,40}\b(pedido|compra|order|purchase|assinatura|subscription)\b",
    r"\b(pedido|compra|order)\b.{0,40}\b(cancel\w*)\b",
    r"\bquero cancelar\b|\bcancela (ai|pra mim|isso)\b",
    r"\b(reembols\w*|estorn\w*|refund\w*|chargeback|devolv\w* (o|meu) dinheiro|dinheiro de volta|money back)\b",
    r"\b(mud\w*|alter\w*|troc\w*|atualiz\w*|change|update)\b.{0,30}\b(e-?mail|senha|cadastro|endereco|cpf|telefone"
    r"|celular|titular|conta|password|address|account|phone)\b",
    r"\b(me (da|de|faz|faca)|faz|faca|da pra fazer|consegue|me consegue|give me|can you give me|can i get)\b.{0,30}"
    r"\b(desconto|discount|abatimento|preco melhor|better price)\b",
    r"\b(faz|faca|fecha|deixa|sai)\b.{0,20}\bpor\b.{0,10}\b(menos|r\$|\d)",
    r"\bdesconto (especial|extra|de \d+|exclusivo)\b|\b\d+ ?% (de desconto|off)\b.{0,30}\b(pra mim|for me|me da)\b",
)
_COMPLAINT = _any(
    r"\b(reclama\w*|complain\w*|procon|reclame aqui|consumidor\.gov|advogado|processar|lawyer|sue you)\b",
    r"\b(absurdo|pessimo|pessima|horrivel|ridiculo|palhacada|vergonha|descaso|lixo|porcaria|inadmissivel)\b",
    r"\b(terrible|awful|horrible|worst|ridiculous|unacceptable|scam|fraud|disgusting)\b",
    r"\b(golpe|golpistas?|enganad\w*|roubad\w*|fui lesad\w*)\b",
    r"\b(nao (chegou|recebi|veio)|ainda nao chegou|never (arrived|came)|didn'?t (arrive|receive))\b",
    r"\bnot (arrived|received)\b",
    r"\b(veio|chegou|came|arrived)\b.{0,25}\b(quebrad\w*|errad\w*|defeito|amassad\w*|danificad\w*|faltando|broken"
    r"|wrong|damaged|defective)\b",
    r"\b(atras\w*|late|delayed)\b.{0,30}\b(pedido|entrega|order|delivery)\b|\b(pedido|entrega|order|delivery)\b.{0,30}"
    r"\b(atrasad\w*|late|delayed)\b",
    r"\b(to|estou|i am|i'm) (muito )?(irritad\w*|bravo|brava|chatead\w*|furios\w*|puto|puta|indignad\w*)\b",
    r"\b(i am|i'm|we are|we're) (very |so |really )?(angry|furious|upset|annoyed|pissed)\b",
    r"\b(nunca mais compro|never (buy|shop) (here|again))\b",
)
_REQUEST = _any(
    r"\b(falar|conversar|fala|speak|talk|chat)\b.{0,25}\b(atendente|humano|humana|pessoa|alguem|vendedor\w*|gerente"
    r"|operador\w*|human|person|agent|someone|representative|manager|real person)\b",
    r"\b(passa|passe|transfere|transfira|chama|chame|quero|preciso de|connect me|transfer me|get me)\b.{0,25}"
    r"\b(atendente|humano|humana|pessoa|vendedor\w*|gerente|operador\w*|human|person|agent|manager)\b",
    r"\b(atendente|atendimento humano|human agent|real person|pessoa de verdade)\b",
    r"\b(me (liga|ligue)|call me)\b",
)
_SHOUTING_MIN_LETTERS = 12


def check(text: str) -> str | None:
    """The handoff reason the customer's request calls for, or ``None``."""
    folded = fold(text)
    if _MANIPULATION.search(folded) or re.search(r"(?im)^\s*(system|sistema)\s*:", text):
        return "manipulation"
    if _FORBIDDEN.search(folded):
        return "forbidden_action"
    if _COMPLAINT.search(folded) or _shouting(text):
        return "complaint"
    if _REQUEST.search(folded):
        return "customer_request"
    return None


def _shouting(text: str) -> bool:
    """A message written in capitals with exclamation marks reads as anger."""
    letters = [ch for ch in text if ch.isalpha()]
    return (
        len(letters) >= _SHOUTING_MIN_LETTERS
        and sum(ch.isupper() for ch in letters) / len(letters) > 0.8
        and ("!" in text)
    )


_CODE_AFTER_WORD = re.compile(
    r"\b(?:cupom|cupon|cupao|coupon|codigo|code|voucher)\s*(?:de desconto\s*)?[:#]?\s*([a-z0-9_-]{3,24})\b"
)
_CODE_SHAPE = re.compile(r"\b([A-Z][A-Z0-9_-]{2,23}[0-9][A-Z0-9]*|[A-Z]{2,}[0-9]{1,4}[A-Z]*)\b")
_NOT_CODES = frozenset(
    {"de", "do", "da", "que", "pra", "para", "vale", "valido", "the", "for", "this", "esse", "desse"}
)


def coupon_mentions(text: str) -> list[str]:
    """Coupon codes the customer names: a word after "cupom"/"coupon"/"código", or a capitals-and-digits token."""
    codes: list[str] = []
    for match in _CODE_AFTER_WORD.finditer(fold(text)):
        if match.group(1) not in _NOT_CODES and not match.group(1).isdigit():
            codes.append(match.group(1).upper())
    for match in _CODE_SHAPE.finditer(text):
        token = match.group(1)
        if not re.fullmatch(r"\d+[A-Z]{1,3}|[A-Z]{1,3}\d+", token):  # 110V, 4K, A15: units and models
            codes.append(token.upper())
    return list(dict.fromkeys(codes))
