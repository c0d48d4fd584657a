"""The customer's language (pt or en), money in the shop's format, and the reply phrases."""

from __future__ import annotations

from babel.numbers import format_currency

from ..text import STOPWORDS, tokenize

__all__ = ["PHRASES", "detect_language", "format_money"]

# Words that only one of the two languages uses, beyond the stopword lists (chat spellings included).
_PT_ONLY = (STOPWORDS["pt"] - STOPWORDS["en"]) | frozenset(
    "sim tem vcs vc voce voces quanto custa preco valor frete entrega cupom ainda obrigado obrigada "
    "oi ola ta tá tô to estoque loja pedido quero queria pix boleto troca garantia horario atendente "
    "reclamacao cancelar vale serve cade".split()
)
_EN_ONLY = (STOPWORDS["en"] - STOPWORDS["pt"]) | frozenset(
    "how much price cost stock shipping delivery coupon store order cancel refund thanks thank yes hours "
    "open human agent does is are available accept accepts sell return returns opening which when where can "
    "tell know get much many".split()
)


def detect_language(text: str, default: str = "pt") -> str:
    """``"pt"`` or ``"en"``: whichever language's own words the text uses more; ``default`` on a tie."""
    tokens = tokenize(text)
    pt = sum(1 for token in tokens if token in _PT_ONLY)
    en = sum(1 for token in tokens if token in _EN_ONLY)
    if pt == en:
        return default
    return "pt" if pt > en else "en"


def format_money(amount: float, currency: str, language: str) -> str:
    """``R$ 1.234,56`` in Portuguese, ``R$1,234.56`` in English (Babel's CLDR data), plain spaces."""
    locale = "pt_BR" if language == "pt" else "en_US"
    return format_currency(amount, (currency or "BRL").upper(), locale=locale).replace("\xa0", " ")


PHRASES: dict[str, dict[str, str]] = {
    "pt": {
        "greeting": "Olá! Posso ajudar com produtos, preços e estoque, e com as regras da loja "
        "(horários, entrega, pagamento, trocas, garantia e promoções). O que você procura?",
        "thanks": "Por nada! Se precisar de mais alguma coisa, é só chamar.",
        "not_found": "Não encontrei esse item no nosso catálogo. Pode me dizer o nome, a marca ou o modelo?",
        "rule_not_found": "Não encontrei uma regra da loja sobre isso. Vou deixar anotado para a equipe confirmar.",
        "in_stock": "{name}: {price}, em estoque.",
        "out_of_stock": "{name} está sem estoque no momento.",
        "no_price": "{name}: preço sob consulta.",
        "options_intro": "{name} tem estas opções:",
        "option": "{option}: {price}, {stock}.",
        "stock_yes": "em estoque",
        "stock_no": "sem estoque",
        "ask": "Temos {name} em {values}. Qual {dimension} você prefere?",
        "alternative": "Em estoque temos {name}, por {price}.",
        "rule": "{title}: {text}",
        "rule_invalid_past": 'A regra "{title}" não está válida: terminou em {date}.',
        "rule_invalid_future": 'A regra "{title}" ainda não está válida: começa em {date}.',
        "no_promotion": "No momento não há promoções ativas.",
        "pix": "No Pix, {name} sai por {price} ({percent} de desconto).",
        "shipping_yes": "Pelo valor, {name} já tem frete grátis (compras a partir de {amount}).",
        "shipping_no": "O frete grátis vale para compras a partir de {amount}; {name} sozinho não chega a esse valor.",
        "coupon_yes": "O cupom {code} vale para {name}.",
        "coupon_no": "O cupom {code} não vale para {name}.",
        "coupon_min": "O cupom {code} exige compra mínima de {amount}.",
        "handoff_customer_request": "Claro! Vou chamar uma pessoa da nossa equipe para continuar o atendimento. "
        "Só um momento.",
        "handoff_complaint": "Sinto muito pelo transtorno. Vou passar seu caso agora para uma pessoa da nossa equipe.",
        "handoff_forbidden_action": "Isso eu não consigo fazer por aqui, mas uma pessoa da nossa equipe pode ajudar. "
        "Vou transferir o atendimento.",
        "handoff_manipulation": "Não posso atender esse pedido. Vou passar a conversa para uma pessoa da nossa equipe.",
        "handoff_low_confidence": "Não consegui encontrar o que você procura. Vou chamar uma pessoa da nossa equipe "
        "para ajudar.",
        "handoff_unavailable": "Estou com dificuldade para consultar as informações agora. "
        "Vou chamar uma pessoa da nossa equipe.",
        "handoff_attachment": "Por aqui só consigo ler mensagens de texto e não consigo abrir {attachment}. "
        "Vou chamar uma pessoa da nossa equipe para ajudar.",
        "attachment_note": "Recebi {attachment}, mas só consigo ler texto; respondo pelo que você escreveu.",
        "attachment_audio": "seu áudio",
        "attachment_image": "sua imagem",
        "attachment_video": "seu vídeo",
        "attachment_other": "seu arquivo",
        "dimension_voltage": "voltagem",
        "dimension_size": "tamanho",
        "dimension_colour": "cor",
        "or": "ou",
    },
    "en": {
        "greeting": "Hello! I can help with products, prices and stock, and with the shop's rules "
        "(hours, delivery, payment, returns, warranty and promotions). What are you looking for?",
        "thanks": "You're welcome! Just write if you need anything else.",
        "not_found": "I couldn't find that item in our catalogue. Could you tell me its name, brand or model?",
        "rule_not_found": "I couldn't find a shop rule about that. I'll leave a note for the team to confirm.",
        "in_stock": "{name}: {price}, in stock.",
        "out_of_stock": "{name} is out of stock at the moment.",
        "no_price": "{name}: price on request.",
        "options_intro": "{name} comes in these options:",
        "option": "{option}: {price}, {stock}.",
        "stock_yes": "in stock",
        "stock_no": "out of stock",
        "ask": "We have {name} in {values}. Which {dimension} would you like?",
        "alternative": "In stock we have {name}, for {price}.",
        "rule": "{title}: {text}",
        "rule_invalid_past": 'The rule "{title}" is not valid: it ended on {date}.',
        "rule_invalid_future": 'The rule "{title}" is not valid yet: it starts on {date}.',
        "no_promotion": "There are no active promotions at the moment.",
        "pix": "Paying by Pix, {name} costs {price} ({percent} off).",
        "shipping_yes": "At that price, {name} already ships free (orders from {amount}).",
        "shipping_no": "Free shipping applies to orders from {amount}; {name} alone does not reach it.",
        "coupon_yes": "Coupon {code} applies to {name}.",
        "coupon_no": "Coupon {code} does not apply to {name}.",
        "coupon_min": "Coupon {code} needs a minimum order of {amount}.",
        "handoff_customer_request": "Sure! I'll bring in someone from our team to continue. Just a moment.",
        "handoff_complaint": "I'm sorry about this. I'm passing your case to someone from our team right now.",
        "handoff_forbidden_action": "I can't do that here, but someone from our team can help. I'm transferring you.",
        "handoff_manipulation": "I can't do that. I'm passing this conversation to someone from our team.",
        "handoff_low_confidence": "I couldn't find what you're looking for. I'll bring in someone from our team.",
        "handoff_unavailable": "I'm having trouble looking things up right now. I'll bring in someone from our team.",
        "handoff_attachment": "Here I can only read text messages, so I can't open {attachment}. "
        "I'll bring in someone from our team to help.",
        "attachment_note": "I received {attachment}, but I can only read text; here is my answer to what you wrote.",
        "attachment_audio": "your voice message",
        "attachment_image": "your image",
        "attachment_video": "your video",
        "attachment_other": "your file",
        "dimension_voltage": "voltage",
        "dimension_size": "size",
        "dimension_colour": "colour",
        "or": "or",
    },
}
