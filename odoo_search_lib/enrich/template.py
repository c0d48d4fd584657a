"""The offline, deterministic description writer (pt_BR and en_US) and the keywords of the facts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from ._common import _clean, _fold, _unique
from .factcheck import fact_check
from .facts import (
    Description,
    ProductFacts,
    normalise_language,
)

# Function words (accent-folded) that are never a search keyword on their own.
_STOPWORDS = frozenset(
    "a o as os um uma uns umas e ou de da do das dos em na no nas nos num numa ao aos com sem para pra por pelo pela "
    "pelos pelas sob sobre ate entre que se the an and or of for with without in on to by at from per into".split()
)
_COLOUR_KEYS = frozenset({"cor", "cores", "color", "colors", "colour", "colours"})
_YES = frozenset({"sim", "yes", "true", "verdadeiro"})
_NO = frozenset({"nao", "no", "false", "falso"})

# singular -> (plural, grammatical gender) for common Portuguese attribute names
_PT_NOUNS = {
    "cor": ("cores", "f"),
    "tamanho": ("tamanhos", "m"),
    "voltagem": ("voltagens", "f"),
    "tensao": ("tensões", "f"),
    "sabor": ("sabores", "m"),
    "modelo": ("modelos", "m"),
    "material": ("materiais", "m"),
    "acabamento": ("acabamentos", "m"),
    "capacidade": ("capacidades", "f"),
    "estampa": ("estampas", "f"),
    "numeracao": ("numerações", "f"),
    "potencia": ("potências", "f"),
    "memoria": ("memórias", "f"),
    "armazenamento": ("armazenamentos", "m"),
    "fragrancia": ("fragrâncias", "f"),
    "aroma": ("aromas", "m"),
    "formato": ("formatos", "m"),
    "peso": ("pesos", "m"),
    "volume": ("volumes", "m"),
    "comprimento": ("comprimentos", "m"),
    "largura": ("larguras", "f"),
    "medida": ("medidas", "f"),
}

# Openings state where the product is in the shop, never a judgement the facts do not support
# ("a great choice", "a highlight of its category"). Portuguese openings take the article that
# agrees with the name's first noun ({art}: "a", "o", "as", "os"); when its gender is unsure the
# "_bare" phrasings need no article.
_PT_NOUN_KEYS = frozenset(_PT_NOUNS) - {"modelo"}

_PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "pt_BR": {
        "open_category": (
            "{Art} {name} faz parte da nossa seção de {category}.",
            "Conheça {art} {name}, da nossa seção de {category}.",
            "Na seção de {category}, você encontra {art} {name}.",
            "Confira {art} {name}, da seção de {category}.",
        ),
        "open": ("Conheça {art} {name}.", "Apresentamos {art} {name}.", "Confira {art} {name}."),
        "open_category_bare": ("Da nossa seção de {category}: {name}.", "Na seção de {category}: {name}."),
        "open_bare": ("{name}.",),
        "attributes": ("Principais características: {items}.", "Conta com {items}.", "Ficha técnica: {items}."),
        "variants": ("Disponível {groups}.", "Opções disponíveis: {plain}."),
        "code": ("Código: {code}.", "Referência: {code}.", "Código do produto: {code}."),
    },
    "en_US": {
        "open_category": (
            "{name} is part of our {category} range.",
            "Meet {name}, from our {category} range.",
            "From our {category} section: {name}.",
            "Discover {name}, part of our {category} collection.",
        ),
        "open": ("Meet {name}.", "Introducing {name}.", "Check out {name}.", "Discover {name}."),
        "attributes": ("Key features: {items}.", "It offers {items}.", "Specifications: {items}."),
        "variants": ("Available in {groups}.", "Comes in {groups}."),
        "code": ("Product code: {code}.", "Reference: {code}.", "SKU: {code}."),
    },
}
# Attribute names whose values are common words, written in lower case inside a sentence
# ("material plástico", not "material Plástico"); brands, models and lines keep their case.
_COMMON_VALUE_KEYS = frozenset(
    {*(_fold(key) for key in ("tecido", "tipo", "estilo", "gola", "manga", "composição", "sola", "fechamento"))}
    | {"fabric", "type", "style", "finish", "pattern", "flavour", "flavor", "scent", "shape", "material"}
)
# Product nouns whose gender the endings get wrong, and words that only qualify the next one
# ("Smart TV", "Air Fryer", "Mini Geladeira"): the article agrees with the noun after them.
_PT_NAME_GENDER = {
    "tv": "f", "fryer": "f", "mouse": "m", "notebook": "m", "smartphone": "m", "headset": "m", "tablet": "m",
    "sofa": "m", "dia": "m", "mapa": "m", "pijama": "m", "sistema": "m", "programa": "m", "tenis": "m",
    "lapis": "m", "onibus": "m", "oculos": "mp", "pente": "m", "tapete": "m", "sabonete": "m", "creme": "m",
    "perfume": "m", "cabide": "m", "chicote": "m", "pacote": "m", "pote": "m", "estojo": "m", "rede": "f",
    "lente": "f", "estante": "f", "parede": "f", "colher": "f", "cor": "f", "flor": "f", "kit": "m",
    "fone": "m", "bone": "m", "chale": "m", "cabo": "m", "carregador": "m", "bracelete": "m", "colete": "m",
}  # fmt: skip
_PT_QUALIFIERS = frozenset({"smart", "air", "mini", "super", "mega", "maxi", "micro", "multi", "new", "top"})


class TemplateWriter:
    """Offline, deterministic descriptions from product facts (``source="template"``).

    Every available fact is used: an opening sentence from the name and the
    category, the sale description, a sentence of attributes, one of variant
    values, the website description (plain text), the price formatted for the
    language and the internal reference. Phrasings are picked with a stable
    hash of the product name, so the same facts always give the same text and
    different products read differently. Missing facts are simply left out.
    """

    source = "template"

    def __init__(self, language: str = "pt_BR") -> None:
        self.language = normalise_language(language)
        self._phrases = _PHRASES[self.language]

    def __repr__(self) -> str:
        return f"TemplateWriter(language={self.language!r})"

    def write(self, facts: ProductFacts) -> Description:
        """Describe ``facts``; the findings of :func:`fact_check` are included (normally none)."""
        text = self.text(facts)
        return Description(
            text=text,
            keywords=fact_keywords(facts),
            source="template",
            findings=tuple(fact_check(facts, text)),
            language=self.language,
        )

    def text(self, facts: ProductFacts) -> str:
        """Return only the description text of ``facts``."""
        name = facts.name.rstrip(" .,;:")
        levels = facts.category_levels
        slot = "open_category" if levels else "open"
        article = _pt_article(name) if self.language == "pt_BR" else ""
        if self.language == "pt_BR" and not article:
            slot += "_bare"
        category = levels[-1] if levels else ""
        opening = self._pick(facts, slot).format(name=name, category=category, art=article, Art=article.capitalize())
        sale, website = _clean(facts.sale_description), _clean(facts.website_description)
        if sale and website:
            if _fold(website) in _fold(sale):
                website = ""
            elif _fold(sale) in _fold(website):
                sale = ""
        sentences = [opening, _finish(sale)]
        items = self._attribute_items(facts)
        if items:
            sentences.append(self._pick(facts, "attributes").format(items=self._join(items)))
        sentences.append(self._variants_sentence(facts))
        sentences.append(_finish(website))
        # No price: a stored description would go stale on the next price change (and travel in webhooks).
        if facts.default_code:
            sentences.append(self._pick(facts, "code").format(code=facts.default_code.rstrip(" .,;:")))
        return " ".join(sentence for sentence in sentences if sentence)

    # -- pieces

    def _pick(self, facts: ProductFacts, slot: str) -> str:
        options = self._phrases[slot]
        digest = hashlib.sha256(f"{slot}\x00{_fold(facts.name)}".encode()).digest()
        return options[int.from_bytes(digest[:4], "big") % len(options)]

    def _join(self, items: Sequence[str]) -> str:
        return _join(items, "e" if self.language == "pt_BR" else "and")

    def _attribute_items(self, facts: ProductFacts) -> list[str]:
        variant_keys = {_fold(key) for key in facts.variant_values}
        items = []
        for key, value in facts.attributes.items():
            if _fold(key) in variant_keys:
                continue  # the variants sentence lists these values
            label = _soft_lower(key)
            folded = _fold(value)
            if folded in _YES:
                items.append(label)
            elif folded in _NO:
                items.append(f"{'sem' if self.language == 'pt_BR' else 'no'} {label}")
            elif folded.startswith(_fold(key)):
                items.append(value)
            else:
                common = _is_colour_key(key) or _fold(key) in _COMMON_VALUE_KEYS or _fold(key) in _PT_NOUN_KEYS
                items.append(f"{label} {_soft_lower(value) if common else value}")
        return items

    def _variants_sentence(self, facts: ProductFacts) -> str:
        groups = [(key, values) for key, values in facts.variant_values.items() if values]
        if not groups:
            return ""
        template = self._pick(facts, "variants")
        if self.language == "en_US":
            return template.format(groups=", ".join(self._en_group(key, values) for key, values in groups))
        with_article = [self._pt_group(key, values, article=index == 0) for index, (key, values) in enumerate(groups)]
        plain = [self._pt_group(key, values, article=False) for key, values in groups]
        return template.format(groups=", ".join(with_article), plain=", ".join(plain))

    def _values(self, key: str, values: Sequence[str]) -> str:
        if _is_colour_key(key):
            values = [_soft_lower(value) for value in values]
        return self._join(values)

    def _pt_group(self, key: str, values: Sequence[str], *, article: bool) -> str:
        singular = _soft_lower(key)
        plural, gender = _pt_plural(singular)
        noun = plural if len(values) > 1 else singular
        text = f"{noun} {self._values(key, values)}"
        if not article:
            return text
        if gender is None:
            return f"em {text}"
        preposition = {("f", True): "nas", ("f", False): "na", ("m", True): "nos", ("m", False): "no"}
        return f"{preposition[gender, len(values) > 1]} {text}"

    def _en_group(self, key: str, values: Sequence[str]) -> str:
        if _is_colour_key(key):
            return self._values(key, values)
        noun = _soft_lower(key)
        if len(values) > 1:
            noun = _en_plural(noun)
        return f"{noun} {self._values(key, values)}"


def fact_keywords(facts: ProductFacts) -> tuple[str, ...]:
    """Lower-case, de-duplicated search keywords taken from the facts only.

    Name tokens (numbers dropped), category levels, attribute values (a yes/no
    attribute gives its name when yes), variant values, tags and the internal
    reference. Noise is left out (see :func:`keyword_noise`): stop words, single
    characters and sizes; the values of a size attribute (named "Tamanho",
    "Size", "Numeração"...) are left out when they are sizes ("GG", "42",
    "38/39", "Extra Grande", "4 anos") and kept otherwise ("55 polegadas").
    """
    words: list[str] = []
    for token in _TOKEN_RE.findall(facts.name.lower()):
        if not _NUMERIC_RE.fullmatch(token):
            words.append(token)
    words.extend(level.lower() for level in facts.category_levels)
    for key, value in facts.attributes.items():
        folded = _fold(value)
        if folded in _YES:
            words.append(key.lower())
        elif folded not in _NO and not (_is_size_key(key) and _is_size_value(value)):
            words.append(value.lower())
    for key, values in facts.variant_values.items():
        size_key = _is_size_key(key)
        words.extend(value.lower() for value in values if not (size_key and _is_size_value(value)))
    words.extend(tag.lower() for tag in facts.tags)
    words = [word for word in words if not keyword_noise(word)]
    if facts.default_code:
        words.append(facts.default_code.lower())
    return _unique(words)


def keyword_noise(keyword: str) -> bool:
    """Whether ``keyword`` says nothing to a search on its own: empty or one character, stop words only,
    or a size only — a letter size ("GG", "XL", "2XL", "PP"), a size word with or without a size
    ("Tamanho 42", "Size M", "Nº 38", "Tamanho Único"). A bare number stays (a voltage "220") and so
    does a measure ("500 g", "2 L"); they are noise only as the value of a size attribute."""
    words = _fold(keyword).split()
    if len(words) == 1 and len(words[0]) <= 1:
        return True
    if not words or all(word in _STOPWORDS for word in words):
        return True
    if any(_NUMERIC_RE.fullmatch(word) for word in words) and not any(_SIZE_NAME_RE.fullmatch(w) for w in words):
        return False
    return _only_sizes(words, _SIZE_NAME_RE, _LETTER_SIZE_RE)


def _only_sizes(words: Sequence[str], *patterns: re.Pattern[str]) -> bool:
    """Whether every word is a number or matches one of ``patterns``; one letter next to a number is a unit
    ("500 g", "2 l", "10 m"), not a size."""
    number = any(_NUMERIC_RE.fullmatch(word) for word in words)
    return bool(words) and all(
        _NUMERIC_RE.fullmatch(word)
        or (not (number and len(word) == 1) and any(pattern.fullmatch(word) for pattern in patterns))
        for word in words
    )


# Words that name a size, and "único"/"one size" (accent-folded: "nº" folds to "no").
_SIZE_NAME_RE = re.compile(r"tamanhos?|tam\.?|sizes?|numeracao|numeracoes|numeros?|n[.o°]?|unic[oa]|one")
# Letter sizes in Portuguese (PP P M G GG XG XGG EG EXG) and English (XS S M L XL XXL 2XL 3XS), "U" (único).
_LETTER_SIZE_RE = re.compile(r"[2-6]?x{1,4}(?:s|l|gg?)|ex?g|exgg|p{1,2}|m|g{1,3}|[slu]")
# Further words of a value of a size attribute: the long forms, EGG and the ages of children's sizes.
_SIZE_VALUE_WORD_RE = re.compile(
    r"eg{2,3}|pequen[oa]s?|medi[oa]s?|grandes?|extra|super|plus|small|medium|large|regular|big|g[1-6]|"
    r"anos?|mes|meses|years?|months?|rn|y"
)
_SIZE_KEYS = frozenset({"tamanho", "tamanhos", "tam", "size", "sizes", "numeracao", "numeracoes", "numero", "numeros"})


def _is_size_key(key: str) -> bool:
    """An attribute that is a size by its name: "Tamanho", "Size", "Numeração", "Shoe Size", "Tamanho Adulto"."""
    return any(word in _SIZE_KEYS for word in re.findall(r"\w+", _fold(key)))


def _is_size_value(value: str) -> bool:
    """A value that is only a size: "GG", "42", "38/39", "10.5", "Extra Grande", "4 anos", "Tamanho Único";
    "55 polegadas", "Queen" or "500 g" are not."""
    return _only_sizes(_fold(value).split(), _SIZE_NAME_RE, _LETTER_SIZE_RE, _SIZE_VALUE_WORD_RE)


_TOKEN_RE = re.compile(r"\w+(?:[.,/-]\w+)*")
_NUMERIC_RE = re.compile(r"[\d.,/-]+")


def _finish(sentence: str) -> str:
    """End a sentence cleanly: no trailing comma or colon, a final full stop."""
    sentence = sentence.strip().rstrip(" ,;:-–—").rstrip()
    if not sentence:
        return ""
    return sentence if sentence[-1] in ".!?…" else sentence + "."


def _join(items: Sequence[str], conjunction: str) -> str:
    items = [item for item in items if item]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _soft_lower(text: str) -> str:
    """Lower-case capitalised words ("Cor Principal" -> "cor principal") but keep "RAM", "USB-C", "iPhone"."""
    return " ".join(
        word[0].lower() + word[1:] if len(word) > 1 and word[0].isupper() and word[1:].islower() else word
        for word in text.split(" ")
    )


def _is_colour_key(key: str) -> bool:
    words = _fold(key).split()
    return bool(words) and words[0] in _COLOUR_KEYS


def _pt_article(name: str) -> str:
    """The definite article that agrees with a product name's first noun ("a Cafeteira...", "os Óculos...",
    "o Kit..."), or ``""`` when its gender is unsure (a brand first, an ending such as -e)."""
    words = [_fold(word) for word in re.findall(r"[^\W\d_]+", name)]
    while len(words) > 1 and words[0] in _PT_QUALIFIERS:
        words = words[1:]
    if not words:
        return ""
    word = words[0]
    gender = _PT_NAME_GENDER.get(word)
    if gender is None:
        if word.endswith(("cao", "dade", "agem", "ie")) or (word.endswith("a") and not word.endswith("ma")):
            gender = "f"
        elif word.endswith(("as",)):
            gender = "fp"
        elif word.endswith(("os",)):
            gender = "mp"
        elif word.endswith(("o", "dor", "tor", "sor", "ao", "el", "al", "il", "ol", "ul")):
            gender = "m"
        elif word[-1] not in "aeious" and not name[:1].islower():
            gender = "m"  # loanwords ending in a consonant: o kit, o notebook, o headset
    return {"f": "a", "m": "o", "fp": "as", "mp": "os"}.get(gender or "", "")


def _pt_plural(noun: str) -> tuple[str, str | None]:
    """Plural and gender ("m"/"f", None when unsure) of a Portuguese attribute name; only its first word varies."""
    first, _, rest = noun.partition(" ")
    suffix = f" {rest}" if rest else ""
    known = _PT_NOUNS.get(_fold(first))
    if known:
        return known[0] + suffix, known[1]
    lower = first.lower()
    if not lower or not lower[-1].isalpha():
        return noun, None
    gender: str | None = None
    if lower.endswith(("a", "agem", "dade", "ção", "são")):
        gender = "f"
    elif lower.endswith(("o", "or")):
        gender = "m"
    # Only endings that are unmistakably Portuguese are inflected: attribute names are often
    # English or brand words ("Colour", "Size"), and a guessed plural ("coloures") reads worse
    # than the singular.
    if lower.endswith(("ção", "são")):
        plural = first[:-2] + "ões"
    elif lower.endswith(("dade", "agem", "ura", "ência", "ância")):
        plural = first[:-1] + "ns" if lower.endswith("agem") else first + "s"
    else:
        plural = first
    return plural + suffix, gender


def _en_plural(noun: str) -> str:
    lower = noun.lower()
    if lower.endswith("agem"):  # a Portuguese attribute name in an English text: voltagem -> voltagens
        return noun[:-1] + "ns"
    if lower.endswith(("s", "x", "ch", "sh", "z")):
        return noun + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"
