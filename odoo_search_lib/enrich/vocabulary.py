"""Closed word lists the fact check recognises: colours, materials, certifications, product claims.

Hand-written: no maintained package lists colour or material words in Portuguese, and the English
CSS colour names (``webcolors``) include food and material words (chocolate, tomato, linen, gold)
that would flag ordinary sentences. Every key is lower-case without accents; values are canonical
names, so a text and the facts agree across languages and inflections ("preta" == "black").
Brands come from ``data/brands.txt`` (one per line).
"""

from __future__ import annotations

import re
from importlib import resources

__all__ = ["BRANDS", "CERTIFICATION_RE", "CERTIFICATION_WORDS", "CLAIM_WORDS", "COLOURS", "MATERIALS"]


def _table(rows: tuple[tuple[str, str], ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, forms in rows:
        for form in forms.split():
            table[form] = canonical
    return table


#: Colour words (pt, en) -> canonical colour. A colour named in a text but in none of the facts is flagged.
COLOURS = _table(
    (
        ("black", "preto preta pretos pretas black"),
        ("white", "branco branca brancos brancas white"),
        ("red", "vermelho vermelha vermelhos vermelhas red"),
        ("blue", "azul azuis blue"),
        ("navy", "marinho navy"),
        ("green", "verde verdes green"),
        ("yellow", "amarelo amarela amarelos amarelas yellow"),
        ("purple", "roxo roxa roxos roxas purple"),
        ("grey", "cinza cinzas grey gray"),
        ("brown", "marrom marrons brown"),
        ("beige", "bege beges beige"),
        ("lilac", "lilas lilases lilac"),
        ("golden", "dourado dourada dourados douradas golden"),
        ("silvery", "prateado prateada prateados prateadas"),
        ("graphite", "grafite graphite"),
        ("pink", "rosa rosas pink"),
        ("orange", "laranja laranjas orange"),
        ("turquoise", "turquesa turquoise"),
        ("violet", "violeta violetas violet"),
        ("magenta", "magenta"),
        ("cyan", "ciano cyan"),
        ("burgundy", "bordo burgundy"),
        ("fuchsia", "fucsia fuchsia"),
        ("indigo", "indigo anil"),
        ("ivory", "marfim ivory"),
        ("khaki", "caqui khaki"),
        ("nude", "nude"),
        ("offwhite", "offwhite"),
        ("transparent", "transparente transparentes incolor transparent"),
        ("multicolour", "colorido colorida coloridos coloridas multicolorido multicolorida multicolor multicolour"),
    )
)

#: Material words (pt, en) -> canonical material.
MATERIALS = _table(
    (
        ("cotton", "algodao cotton"),
        ("polyester", "poliester polyester"),
        ("leather", "couro leather"),
        ("synthetic", "sintetico sintetica synthetic"),
        ("steel", "aco steel"),
        ("stainless", "inox inoxidavel stainless"),
        ("aluminium", "aluminio aluminium aluminum"),
        ("glass", "vidro vidros glass"),
        ("wood", "madeira madeiras wood wooden"),
        ("bamboo", "bambu bamboo"),
        ("plastic", "plastico plastica plastic"),
        ("silicone", "silicone"),
        ("ceramic", "ceramica ceramic"),
        ("porcelain", "porcelana porcelain"),
        ("rubber", "borracha rubber"),
        ("nylon", "nylon nailon"),
        ("wool", "la wool"),
        ("silk", "seda silk"),
        ("linen", "linho linen"),
        ("denim", "jeans denim"),
        ("iron", "ferro iron"),
        ("copper", "cobre copper"),
        ("titanium", "titanio titanium"),
        ("mdf", "mdf"),
        ("acrylic", "acrilico acrilica acrylic"),
        ("polycarbonate", "policarbonato polycarbonate"),
        ("elastane", "elastano spandex lycra"),
        ("viscose", "viscose"),
        ("velvet", "veludo velvet"),
        ("suede", "camurca suede"),
        ("brass", "latao brass"),
        ("marble", "marmore marble"),
        ("granite", "granito granite"),
        ("crystal", "cristal crystal"),
        ("microfibre", "microfibra microfiber microfibre"),
        ("nonstick", "antiaderente teflon nonstick"),
        ("pvc", "pvc"),
        ("eva", "eva"),
        ("tritan", "tritan"),
    )
)

#: Product claims that are yes/no facts ("bivolt") -> canonical claim.
CLAIM_WORDS = _table((("bivolt", "bivolt"),))

#: Words that claim a certification without naming one -> canonical ("certificado" == "certified").
CERTIFICATION_WORDS = _table(
    (
        (
            "certified",
            "certificado certificada certificados certificadas certificacao certificacoes certified certification",
        ),
        ("homologated", "homologado homologada homologados homologadas homologacao homologated"),
    )
)

#: Named certifications, standards and ratings, matched as written (short acronyms only in capitals).
CERTIFICATION_RE = re.compile(
    r"(?<![\w-])(?:"
    r"(?:ISO|IEC|NBR|ABNT NBR|EN|ASTM|NR)[ -]?\d{2,5}(?:[-:]\d+)*"  # standards with a number
    r"|IP[X\d]\d"  # ingress protection (IP67, IPX4)
    r"|INMETRO|Inmetro|ANVISA|Anvisa|ANATEL|Anatel|ABNT|PROCEL|Procel|CONMETRO"
    r"|CE|FDA|FCC|UL|RoHS|ROHS|BPA|CSA|TÜV|TUV|GS|Energy Star|ENERGY STAR|FSC|OEKO-TEX|Oeko-Tex"
    r")(?![\w-])"
)


def _brands() -> tuple[str, ...]:
    text = (resources.files("odoo_search_lib") / "data" / "brands.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


#: Brand names (as usually written) a description must not name unless the facts do.
BRANDS = _brands()
