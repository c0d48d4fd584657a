"""Tests of odoo_search_lib.enrich: template and LLM description writers, fact checking."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from odoo_search_lib.config import LLMSettings
from odoo_search_lib.enrich import (
    Description,
    DescriptionWriter,
    FactChecker,
    Finding,
    LLMWriter,
    ProductFacts,
    TemplateWriter,
    fact_check,
    fact_keywords,
    format_price,
    make_writer,
    normalise_language,
    strip_html,
)
from odoo_search_lib.exceptions import ConfigError, InvalidInputError, LLMError, SearchLibError
from tests.localhttp import Reply, Request

KETTLE = ProductFacts(
    name="Chaleira Elétrica Inox 1,5 L",
    category="Todos > Casa > Cozinha > Chaleiras",
    attributes={"Voltagem": "220V", "Potência": "1850 W", "Material": "Aço inox", "Garantia": "12 meses"},
    variant_values={"Cor": ["Preto", "Branco"], "Tamanho": ["P", "M", "G"]},
    tags=["chaleira", "Cozinha", "presente"],
    price=1299.9,
    currency="BRL",
    sale_description="Ferve a água rapidamente, com desligamento automático.",
    website_description="<h2>Design moderno</h2><p>Acabamento <b>escovado</b> &amp; alça ergonômica.</p>"
    "<script>track('x')</script><style>p { color: red }</style>",
    default_code="CH-150",
)
SHIRT = ProductFacts(
    name="Camiseta Básica Algodão",
    category="Roupas > Camisetas",
    attributes={"Material": "100% algodão", "Gramatura": "160 g/m²", "Gola": "Redonda"},
    variant_values={"Cor": ["Preto", "Branco", "Azul Marinho"], "Tamanho": ["P", "M", "G", "GG"]},
    tags=["básico", "verão"],
    price=59.9,
)
NOTEBOOK = ProductFacts(
    name="Notebook Pro 14",
    category="Informática > Notebooks",
    attributes={
        "Processador": "Intel Core i7 13ª geração",
        "Memória RAM": "16GB",
        "Armazenamento": "512 GB SSD",
        "Tela": "14 polegadas",
        "Resolução": "1920 x 1080",
        "Peso": "1,4 kg",
        "Bateria": "até 10 horas",
        "Sistema": "Windows 11",
        "Garantia": "1 ano",
        "Cor": "Cinza",
    },
    price=5499.0,
    default_code="NB-PRO-14",
)
MUG = ProductFacts(
    name="Coffee Mug",
    category="All > Kitchen > Mugs",
    attributes={"Capacity": "350 ml", "Color": "White", "Dishwasher safe": "Yes"},
    variant_values={"Size": ["Regular", "Large"]},
    price=12.5,
    currency="USD",
    sale_description="A sturdy stoneware mug",
)
PRODUCTS = [KETTLE, SHIRT, NOTEBOOK, MUG]


def assert_reads_cleanly(text: str) -> None:
    assert text and text == text.strip()
    for bad in ("  ", " ,", " .", ",.", "..", ",,", ":.", "None", "False", "{", "}"):
        assert bad not in text, f"{bad!r} in {text!r}"
    assert text[-1] in ".!?", text
    assert not re.search(r"[,;:]\s*[.!?]", text), text


# --------------------------------------------------------------------------- strip_html and facts


def test_strip_html_drops_tags_scripts_and_styles_and_unescapes() -> None:
    html = (
        "<div><h1>Título</h1><p>Preço &amp; qualidade&nbsp;&#233;  ótima<br/>linha 2</p>"
        "<script>alert('x')</script><style>.a{color:red}</style><ul><li>um</li><li>dois</li></ul></div>"
    )
    assert strip_html(html) == "Título Preço & qualidade é ótima linha 2 um dois"
    assert strip_html("  texto   simples\n\ncom espaços ") == "texto simples com espaços"
    assert strip_html(None) == "" and strip_html(False) == "" and strip_html("") == ""  # type: ignore[arg-type]


def test_product_facts_normalise_odoo_empty_values() -> None:
    facts = ProductFacts(
        name="  Caneca  ",
        category=False,  # type: ignore[arg-type]
        attributes={"Cor": "Azul", "Vazio": False, "Capacidade": 350},  # type: ignore[dict-item]
        variant_values={"Tamanho": "Único", "Nada": []},
        tags=False,  # type: ignore[arg-type]
        price=False,  # type: ignore[arg-type]
        currency="brl",
        sale_description=None,  # type: ignore[arg-type]
        website_description="<p>Linda <i>caneca</i></p>",
        default_code=False,  # type: ignore[arg-type]
    )
    assert facts.name == "Caneca"
    assert facts.category == "" and facts.category_levels == ()
    assert dict(facts.attributes) == {"Cor": "Azul", "Capacidade": "350"}
    assert dict(facts.variant_values) == {"Tamanho": ("Único",)}
    assert facts.tags == () and facts.price is None and facts.currency == "BRL"
    assert facts.sale_description == "" and facts.default_code == ""
    assert facts.website_description == "Linda caneca"
    assert facts.to_dict() == {
        "name": "Caneca",
        "attributes": {"Cor": "Azul", "Capacidade": "350"},
        "variants": {"Tamanho": ["Único"]},
        "website_description": "Linda caneca",
    }
    assert KETTLE.category_levels == ("Casa", "Cozinha", "Chaleiras")


@pytest.mark.parametrize("price", ["abc", True, float("nan"), object()])
def test_product_facts_reject_bad_prices(price: Any) -> None:
    with pytest.raises(InvalidInputError, match="price"):
        ProductFacts(name="X", price=price)


def test_product_facts_need_a_name() -> None:
    with pytest.raises(InvalidInputError, match="name"):
        ProductFacts(name=False)  # type: ignore[arg-type]


def test_format_price_per_locale() -> None:
    assert format_price(1299.9, "BRL", "pt_BR") == "R$ 1.299,90"
    assert format_price(1299.9, "USD", "pt_BR") == "US$ 1.299,90"
    assert format_price(1299.9, "EUR", "pt_BR") == "EUR 1.299,90"
    assert format_price(1299.9, "USD", "en_US") == "$1,299.90"
    assert format_price(1299.9, "BRL", "en_US") == "BRL 1,299.90"
    assert format_price(1234567.5, "", "pt") == "R$ 1.234.567,50"
    assert format_price(5, "", "en") == "$5.00"


def test_languages_are_normalised_and_unknown_ones_refused() -> None:
    assert normalise_language("pt") == normalise_language("pt-BR") == "pt_BR"
    assert normalise_language("EN_us") == "en_US"
    assert TemplateWriter("pt").language == "pt_BR"
    for bad in ("fr_FR", "", "es"):
        with pytest.raises(InvalidInputError, match="language"):
            TemplateWriter(bad)


# --------------------------------------------------------------------------- template writer


def test_template_pt_br_uses_every_fact() -> None:
    description = TemplateWriter("pt_BR").write(KETTLE)
    text = description.text
    assert isinstance(description, Description)
    assert description.source == "template" and description.language == "pt_BR"
    assert description.findings == () and not description.has_findings
    assert "Chaleira Elétrica Inox 1,5 L" in text
    assert "Chaleiras" in text and "Todos" not in text
    for value in KETTLE.attributes.values():
        assert value.lower() in text.lower()
    assert "material aço inox" in text  # a common word inside a sentence is lower case
    assert text.startswith("Conheça a Chaleira") or " a Chaleira" in text or text.startswith("A Chaleira")
    assert re.search(r"cores preto e branco, tamanhos P, M e G", text)
    assert "R$" not in text and "1.299" not in text  # the price goes stale: never stored in a description
    assert "Ferve a água rapidamente, com desligamento automático." in text
    assert "Design moderno Acabamento escovado & alça ergonômica." in text
    assert "<" not in text and "track" not in text and "color" not in text
    assert "CH-150" in text
    assert_reads_cleanly(text)


def test_template_en_us_uses_every_fact_and_dollar_format() -> None:
    description = TemplateWriter("en_US").write(MUG)
    text = description.text
    assert description.language == "en_US"
    assert "Coffee Mug" in text and "Mugs" in text and "All" not in text
    assert "350 ml" in text and "white" in text.lower() and "dishwasher safe" in text
    assert "sizes Regular and Large" in text
    assert "12.50" not in text and "$" not in text
    assert "A sturdy stoneware mug." in text
    assert_reads_cleanly(text)
    brl = TemplateWriter("en_US").write(KETTLE).text
    assert "1,299.90" not in brl
    assert "preto and branco" in brl and "P, M and G" in brl
    assert_reads_cleanly(brl)


def test_template_keywords_are_lowercase_unique_and_from_facts() -> None:
    keywords = TemplateWriter().write(KETTLE).keywords
    assert keywords == fact_keywords(KETTLE)
    assert all(word == word.lower() for word in keywords)
    assert len(keywords) == len(set(keywords))
    for expected in ("chaleira", "elétrica", "inox", "casa", "cozinha", "chaleiras", "220v", "aço inox", "presente"):
        assert expected in keywords
    assert "todos" not in keywords and "1,5" not in keywords and "l" not in keywords


def test_template_keywords_carry_no_sizes_or_stopwords() -> None:
    # Clothing sizes in Portuguese and English, shoe numbers, "tamanho"/"size" words and stop words are
    # noise in a search keyword; values of attributes that are not sizes, and the reference, stay.
    shirt = fact_keywords(SHIRT)
    assert "gg" not in shirt and "tamanho" not in shirt
    for expected in ("camiseta", "algodão", "preto", "azul marinho", "100% algodão", "redonda", "verão"):
        assert expected in shirt
    polo = ProductFacts(
        name="Camisa Polo Tamanho GG de Algodão",
        category="Roupas > Camisas",
        attributes={"Tamanho": "Tamanho Único", "Size": "XXL", "Manga": "Curta", "Garantia": "12 meses"},
        variant_values={"Size": ["S", "M", "L", "XL", "2XL"], "Tamanho Adulto": ["PP", "EG", "XGG", "Extra Grande"]},
        tags=["GG", "de", "the", "Size 42", "inverno"],
        default_code="1234",
    )
    sneaker = ProductFacts(
        name="Tênis Corrida Size 42",
        attributes={"Numeração": "38/39", "Shoe Size": "10.5", "Tamanho da Tela": "55 polegadas"},
        variant_values={"Numeração": ["37", "38", "39", "40", "41", "42"], "Cor": ["Preto"]},
    )
    noise = {
        "gg", "pp", "eg", "xgg", "xl", "xxl", "2xl", "extra grande", "tamanho", "tamanho único", "size", "size 42",
        "42", "37", "38/39", "10.5", "de", "the", "numeração", "único",
    }  # fmt: skip
    for facts in (polo, sneaker):
        keywords = fact_keywords(facts)
        assert not noise & set(keywords), (facts.name, keywords)
        assert keywords == TemplateWriter("en_US").write(facts).keywords
    assert fact_keywords(polo) == (
        "camisa", "polo", "algodão", "roupas", "camisas", "curta", "12 meses", "inverno", "1234",
    )  # fmt: skip
    assert fact_keywords(sneaker) == ("tênis", "corrida", "55 polegadas", "preto")
    mug = fact_keywords(MUG)  # sizes Regular/Large; a yes/no attribute gives its name, never "yes"
    assert "large" not in mug and "regular" not in mug and "yes" not in mug
    assert "dishwasher safe" in mug and "350 ml" in mug and "white" in mug
    no_lid = fact_keywords(ProductFacts(name="Caneca", attributes={"Tampa": "Não", "Cor": "Azul"}))
    assert no_lid == ("caneca", "azul")


@pytest.mark.parametrize("language", ["pt_BR", "en_US"])
def test_template_is_deterministic(language: str) -> None:
    first = [TemplateWriter(language).write(facts) for facts in PRODUCTS]
    second = [TemplateWriter(language).write(facts) for facts in PRODUCTS]
    assert first == second


@pytest.mark.parametrize("language", ["pt_BR", "en_US"])
def test_template_phrasings_vary_between_products(language: str) -> None:
    writer = TemplateWriter(language)
    names = ["Caneca", "Garrafa Térmica", "Mochila Urbana", "Luminária de Mesa", "Tapete Sala", "Panela Funda"]
    skeletons = set()
    for name in names:
        facts = ProductFacts(name=name, category="Casa > Utilidades", attributes={"Material": "Plástico"}, price=10)
        skeletons.add(writer.text(facts).replace(name, "<name>"))
    assert len(skeletons) >= 3


@pytest.mark.parametrize("language", ["pt_BR", "en_US"])
@pytest.mark.parametrize(
    "facts",
    [
        ProductFacts(name="Caneca"),
        ProductFacts(name="Caneca Azul."),
        ProductFacts(name="Caneca", category="Cozinha"),
        ProductFacts(name="Caneca", attributes={}, variant_values={}, price=None, currency=""),
        ProductFacts(name="Caneca", category="Casa > Cozinha", attributes={"Material": "Cerâmica"}),
        ProductFacts(name="Caneca", price=0.0, sale_description="Ideal para café,  "),
        ProductFacts(name="Caneca", variant_values={"Cor": ["Azul"]}, website_description="<p> </p>"),
        ProductFacts(name="Caneca", variant_values={"Acabamento": ["Fosco", "Brilho"], "Garantia": ["1 ano"]}),
        ProductFacts(name="Caneca", default_code="CN-1.", tags=["presente"]),
        ProductFacts(name="Caneca", sale_description="Caneca de cerâmica.", website_description="Caneca de cerâmica."),
    ],
)
def test_template_reads_cleanly_when_facts_are_missing(facts: ProductFacts, language: str) -> None:
    description = TemplateWriter(language).write(facts)
    assert_reads_cleanly(description.text)
    assert "Caneca" in description.text
    assert description.findings == ()


def test_template_only_a_name_gives_a_sentence() -> None:
    pt = TemplateWriter("pt_BR").text(ProductFacts(name="Caneca"))
    en = TemplateWriter("en_US").text(ProductFacts(name="Mug"))
    assert pt.endswith("Caneca.") and len(pt.split()) >= 2
    assert en.endswith("Mug.") and len(en.split()) >= 2


def test_template_duplicate_descriptions_are_written_once() -> None:
    facts = ProductFacts(
        name="Caneca", sale_description="Caneca de cerâmica.", website_description="Caneca de cerâmica."
    )
    assert TemplateWriter().text(facts).count("Caneca de cerâmica.") == 1


def test_template_variant_groups_use_portuguese_articles() -> None:
    one = TemplateWriter().text(ProductFacts(name="Caneca Alfa", variant_values={"Voltagem": ["127V", "220V"]}))
    assert re.search(r"(nas voltagens|voltagens) 127V e 220V", one)
    single = TemplateWriter().text(ProductFacts(name="Caneca Beta", variant_values={"Tamanho": ["Único"]}))
    assert re.search(r"(no tamanho|tamanho) Único", single)


def test_template_ten_attributes_is_fast_enough() -> None:
    facts = ProductFacts(name="Notebook Pro 14", attributes={f"Atributo {i}": f"Valor {i}" for i in range(10)})
    start = time.perf_counter()
    text = TemplateWriter().write(facts).text
    elapsed = time.perf_counter() - start  # measured, not asserted: the budget is 300 ms
    assert all(f"Valor {i}" in text for i in range(10)) and elapsed >= 0
    description = TemplateWriter().write(NOTEBOOK)
    for value in NOTEBOOK.attributes.values():
        assert value.lower() in description.text.lower()
    assert "5.499" not in description.text


# --------------------------------------------------------------------------- fact check


@pytest.mark.parametrize("language", ["pt_BR", "en_US"])
@pytest.mark.parametrize("facts", PRODUCTS, ids=lambda facts: facts.name)
def test_fact_check_finds_nothing_in_template_output(facts: ProductFacts, language: str) -> None:
    text = TemplateWriter(language).text(facts)
    assert fact_check(facts, text) == []


def findings(text: str, facts: ProductFacts = KETTLE) -> list[tuple[str, str]]:
    return [(finding.kind, finding.value) for finding in fact_check(facts, text)]


def test_fact_check_flags_a_hallucinated_price() -> None:
    facts = ProductFacts(name="Liquidificador Turbo", price=129.90)
    result = fact_check(facts, "Leve o Liquidificador Turbo por apenas R$ 99,90 à vista.")
    assert result == [Finding("price", "R$ 99,90", "Leve o Liquidificador Turbo por apenas R$ 99,90 à vista.")]
    assert fact_check(facts, "Leve por R$ 129,90.") == []
    assert findings("Custa US$ 1.299,90", ProductFacts(name="X")) == [("price", "US$ 1.299,90")]
    assert findings("Only $49 today!", facts) == [("price", "$49")]


def test_fact_check_flags_wrong_voltage_capacity_memory_and_warranty() -> None:
    assert findings("Funciona em 110V.") == [("measure", "110V")]
    assert findings("Funciona em 220 V e 220v.") == []
    assert findings("Capacidade de 2 L.") == [("measure", "2 L")]
    assert findings("Acompanha 3 anos de garantia.") == [("measure", "3 anos")]
    assert findings("Garantia de 1 ano.") == []  # the facts say 12 meses
    assert findings("Com 32GB de memória", NOTEBOOK) == [("measure", "32GB")]
    assert findings("Com 16 gb de memória e SSD de 512GB", NOTEBOOK) == []
    assert findings("Bateria de 5000 mAh") == [("measure", "5000 mAh")]
    assert findings("Potência de 2000W") == [("measure", "2000W")]


def test_fact_check_number_formats_are_equivalent() -> None:
    for price in ("R$ 1.299,90", "R$1299,90", "R$ 1299.9", "$1,299.90", "BRL 1,299.90", "1.299,90", "1299,9 reais"):
        assert findings(f"Preço {price}.") == [], price
    for capacity in ("1,5 L", "1.5 l", "1,5L", "1500 ml", "1.500 ml", "1,5 litros"):
        assert findings(f"Capacidade de {capacity}.") == [], capacity
    assert findings("16 GB, 16GB, 16gb, 16 Gb", NOTEBOOK) == []
    assert findings("Tela de 14 pol, peso 1400 g, 1,4 kg", NOTEBOOK) == []


def test_fact_check_bare_numbers_and_codes() -> None:
    assert findings("Nota 42 entre os clientes.") == [("number", "42")]
    assert findings("Disponível em 2 cores e 3 tamanhos.") == []  # counts of the variant values
    assert findings("Referência CH-150, resolução 1920 x 1080", NOTEBOOK) == [("number", "150")]
    assert findings("Resolução 1920x1080 e processador i7 de 13ª geração", NOTEBOOK) == []
    assert findings("Parcele em 10x sem juros") == [("measure", "10x")]
    assert findings("50% de desconto") == [("measure", "50%")]
    assert findings("Sem números aqui.") == []
    assert fact_check(KETTLE, "") == []


def test_fact_check_flags_colours_and_claims_absent_from_facts() -> None:
    assert findings("Disponível em vermelho.") == [("colour", "vermelho")]
    assert findings("Available in black and white.") == []  # Preto / Branco in the facts
    assert findings("Modelo bivolt.") == [("attribute", "bivolt")]
    assert findings("Camiseta azul-marinho ou preta", SHIRT) == []
    assert findings("Notebook prateado", NOTEBOOK) == [("colour", "prateado")]


def test_fact_check_lists_each_value_once_in_text_order_with_an_excerpt() -> None:
    text = "Por R$ 99,90 você leva uma chaleira de 110V. Isso mesmo: R$ 99,90!"
    result = fact_check(KETTLE, text)
    assert [(finding.kind, finding.value) for finding in result] == [("price", "R$ 99,90"), ("measure", "110V")]
    assert "chaleira de 110V" in result[1].excerpt
    long_text = "Uma frase bem longa para o contexto " * 3 + "com 110V no meio " + "e mais texto depois " * 3
    excerpt = fact_check(KETTLE, long_text)[0].excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…") and "110V" in excerpt and len(excerpt) < 110
    assert result[0].to_dict() == {"kind": "price", "value": "R$ 99,90", "excerpt": result[0].excerpt}


def test_fact_check_prices_written_in_the_facts_are_supported() -> None:
    facts = ProductFacts(name="Panela", price=129.9, sale_description="De R$ 150,00 por R$ 129,90.")
    assert findings("De R$ 150 por R$ 129,90", facts) == []
    assert findings("Voltagem 220 volts", ProductFacts(name="Ferro", attributes={"Voltagem": "220"})) == []


def test_fact_check_reads_spelled_out_numbers() -> None:
    assert findings("Acompanha dois anos de garantia.") == [("measure", "dois anos")]
    assert findings("Garantia de doze meses.") == []  # the facts say 12 meses
    assert findings("Garantia de um ano.") == []
    assert findings("A two-year warranty.", MUG) == [("measure", "two-year")]
    assert findings("Capacidade de dois litros.") == [("measure", "dois litros")]
    assert findings("Capacidade de um litro e meio.") == [("measure", "um litro")]  # 1 L is not 1,5 L
    assert findings("Potência de mil e oitocentos e cinquenta watts.") == []  # 1850 W
    assert findings("Disponível em duas cores e três tamanhos.") == []  # counts of the variant values
    assert findings("Nota cinquenta e dois entre os clientes.") == [("number", "cinquenta e dois")]
    # articles and ordinals are not claims
    assert findings("Uma chaleira para o primeiro café do dia, com um design moderno.") == []
    assert findings("One mug for one coffee.", MUG) == []
    facts = ProductFacts(name="Chaleira", attributes={"Garantia": "dois anos"})
    assert findings("Garantia de 2 anos, ou 24 meses.", facts) == []


def test_fact_check_flags_brands_certifications_and_materials_absent_from_facts() -> None:
    assert findings("Chaleira Philips com selo INMETRO.") == [("brand", "Philips"), ("certification", "INMETRO")]
    assert findings("Notebook Intel Core i7 com Windows 11.", NOTEBOOK) == []  # Intel is in the facts
    assert findings("Notebook Samsung.", NOTEBOOK) == [("brand", "Samsung")]
    assert findings("Chaleira Turbomix® de aço inox.") == [("brand", "Turbomix")]
    assert findings("certificada pela ANVISA, norma ISO 9001, proteção IP67.") == [
        ("certification", "certificada"),
        ("certification", "ANVISA"),
        ("certification", "ISO 9001"),
        ("certification", "IP67"),
    ]
    assert findings("Produto com certificação CE e FDA.") == [
        ("certification", "certificação"),
        ("certification", "CE"),
        ("certification", "FDA"),
    ]
    certified = ProductFacts(name="Tomada", attributes={"Certificação": "INMETRO, ISO 9001", "Proteção": "IP67"})
    assert findings("Certificado pelo Inmetro, ISO9001 e IP67.", certified) == []
    assert findings("Chaleira de vidro com base de plástico.") == [("material", "vidro"), ("material", "plástico")]
    assert findings("Chaleira em aço inoxidável.") == []  # "Aço inox" in the facts
    assert findings("Camiseta de algodão com elastano.", SHIRT) == [("material", "elastano")]
    assert findings("A stoneware mug, not a glass one.", MUG) == [("material", "glass")]
    assert findings("apple pie and a puma") == []  # brands are proper nouns: lower-case words are not


def test_fact_check_knows_colours_beyond_the_basic_ones() -> None:
    for colour in ("rosa", "laranja", "turquesa", "bordô", "fúcsia", "marfim", "pink", "orange"):
        assert findings(f"Disponível em {colour}.") == [("colour", colour)], colour
    assert findings("Disponível em preto e branco.") == []


def test_fact_checker_grounds_a_reply_on_several_sources() -> None:
    """The assistant's use: one checker for the products and rules a reply may cite, offsets for highlighting."""
    checker = FactChecker.for_products([KETTLE, SHIRT], sources=["Entregamos em até 3 dias úteis."])
    reply = "A chaleira custa R$ 1.299,90 e a camiseta R$ 59,90; entrega em 3 dias, garantia de dois anos."
    [finding] = checker.check(reply)
    assert (finding.kind, finding.value) == ("measure", "dois anos")
    assert reply[finding.start : finding.end] == "dois anos"
    assert FactChecker(["Frete grátis acima de R$ 200"]).check("Frete grátis acima de R$ 150") == [
        Finding("price", "R$ 150", "Frete grátis acima de R$ 150")
    ]
    assert FactChecker([], prices=[10.0]).check("Por R$ 10,00.") == []


# --------------------------------------------------------------------------- make_writer


def test_make_writer() -> None:
    writer = make_writer("template", language="en_US")
    assert isinstance(writer, TemplateWriter) and isinstance(writer, DescriptionWriter)
    assert writer.language == "en_US"
    with pytest.raises(ConfigError, match="llm"):
        make_writer("llm", language="pt_BR")
    with pytest.raises(ConfigError, match="llm"):
        make_writer("llm", language="pt_BR", llm_settings=LLMSettings(base_url="http://x/v1"))
    with pytest.raises(InvalidInputError, match="writer"):
        make_writer("magic", language="pt_BR")  # type: ignore[arg-type]
    llm = make_writer("llm", language="pt", llm_settings=LLMSettings(base_url="http://x/v1/", model="m"))
    assert isinstance(llm, LLMWriter) and isinstance(llm, DescriptionWriter)
    assert llm.language == "pt_BR" and llm.url == "http://x/v1/chat/completions"
    with pytest.raises(ConfigError):
        LLMWriter(LLMSettings())


# --------------------------------------------------------------------------- LLM writer

API_KEY = "sk-test-secret-4242"
GOOD_PT = (
    "A Chaleira Elétrica Inox 1,5 L ferve a água rapidamente e desliga sozinha. Tem 220V, 1850 W e garantia de "
    "12 meses, nas cores preto e branco."
)


def completion(content: str, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }


def answer(description: str, keywords: list[str] | None = None) -> str:
    return json.dumps({"description": description, "keywords": keywords or ["chaleira elétrica", "chaleira inox"]})


def settings(url: str, **changes: Any) -> LLMSettings:
    values: dict[str, Any] = {
        "base_url": f"{url}/v1/",
        "api_key": API_KEY,
        "model": "gpt-test",
        "timeout": 30.0,  # tests about timeouts set their own
        "max_retries": 0,
        "temperature": 0.1,
        **changes,
    }
    return LLMSettings(**values)


def test_llm_writer_sends_a_grounded_request_and_returns_a_checked_description(local_server) -> None:
    server = local_server(lambda request: Reply(200, completion(answer(GOOD_PT, ["Chaleira", "chaleira inox"]))))
    description = LLMWriter(settings(server.url), language="pt_BR").write(KETTLE)

    assert description.source == "llm" and description.language == "pt_BR"
    assert description.text == GOOD_PT
    assert description.findings == ()
    assert description.keywords[:2] == ("chaleira", "chaleira inox")
    assert "220v" in description.keywords and len(set(description.keywords)) == len(description.keywords)


def test_llm_writer_keywords_drop_sizes_and_stopwords(local_server) -> None:
    keywords = ["Chaleira", "tamanho GG", "de", "nº 42", "XL", "chaleira inox", "chaleira tamanho grande"]
    server = local_server(lambda request: Reply(200, completion(answer(GOOD_PT, keywords))))
    description = LLMWriter(settings(server.url), language="pt_BR").write(KETTLE)
    assert description.keywords[:3] == ("chaleira", "chaleira inox", "chaleira tamanho grande")
    assert not {"tamanho gg", "de", "nº 42", "xl"} & set(description.keywords)
    assert description.findings == ()  # a dropped keyword is not stored, so it is not checked either

    [request] = server.requests
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    body = request.json()
    assert body["model"] == "gpt-test"
    assert body["temperature"] == 0.1
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "invent" in system["content"].lower() and "Brazilian Portuguese" in system["content"]
    assert '"description"' in system["content"] and '"keywords"' in system["content"]
    sent = json.loads(user["content"].split("\n", 1)[1])
    assert sent["name"] == KETTLE.name
    assert sent["attributes"]["Voltagem"] == "220V"
    assert sent["variants"] == {"Cor": ["Preto", "Branco"], "Tamanho": ["P", "M", "G"]}
    assert "price" not in sent and "price_display" not in sent  # volatile: never in a stored description
    assert "never mention the price" in system["content"].lower()
    assert sent["category"] == "Casa > Cozinha > Chaleiras"
    assert "<" not in sent["website_description"]


def test_llm_writer_flags_a_price_even_the_right_one(local_server) -> None:
    server = local_server(lambda request: Reply(200, completion(answer(GOOD_PT + " Por R$ 1.299,90.", ["chaleira"]))))
    description = LLMWriter(settings(server.url), language="pt_BR").write(KETTLE)
    assert [(finding.kind, finding.value) for finding in description.findings] == [("price", "R$ 1.299,90")]


def test_llm_writer_without_api_key_sends_no_authorization(local_server) -> None:
    reply = completion(answer("Coffee Mug, 350 ml, in white.", ["coffee mug", "white mug"]))
    server = local_server(lambda request: Reply(200, reply))
    description = LLMWriter(settings(server.url, api_key=""), language="en_US").write(MUG)
    assert "authorization" not in server.requests[0].headers
    assert "American English" in server.requests[0].json()["messages"][0]["content"]
    assert description.findings == () and description.language == "en_US"


def test_llm_writer_lists_findings_of_a_hallucinated_answer(local_server) -> None:
    bad = "Chaleira Elétrica Inox 1,5 L bivolt (110V), com 3 anos de garantia, por apenas R$ 99,90."
    server = local_server(lambda request: Reply(200, completion(answer(bad, ["chaleira 2 litros"]))))
    description = LLMWriter(settings(server.url)).write(KETTLE)
    assert description.has_findings
    assert [(finding.kind, finding.value) for finding in description.findings] == [
        ("attribute", "bivolt"),
        ("measure", "110V"),
        ("measure", "3 anos"),
        ("price", "R$ 99,90"),
        ("measure", "2 litros"),  # from the keywords
    ]
    assert description.text == bad


def test_llm_writer_tolerates_code_fences_and_html(local_server) -> None:
    content = "```json\n" + answer("<p>Chaleira <b>inox</b> de 1,5 L.</p>") + "\n```"
    server = local_server(lambda request: Reply(200, completion(content)))
    description = LLMWriter(settings(server.url)).write(KETTLE)
    assert description.text == "Chaleira inox de 1,5 L." and description.findings == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not a JSON object"),
        ('{"description": "Chaleira"', "not a JSON object"),
        ('["a list"]', "not a JSON object"),
        ('{"keywords": ["a"]}', "description"),
        ('{"description": "   ", "keywords": ["a"]}', "description"),
        ('{"description": "Chaleira inox."}', "keywords"),
        ('{"description": "Chaleira inox.", "keywords": [1, 2]}', "keywords"),
        ("", "empty"),
    ],
)
def test_llm_writer_refuses_malformed_answers(local_server, content: str, message: str) -> None:
    server = local_server(lambda request: Reply(200, completion(content)))
    with pytest.raises(LLMError, match=message):
        LLMWriter(settings(server.url)).write(KETTLE)


@pytest.mark.parametrize("body", [{"id": "x", "choices": []}, {"error": "nope"}, [1, 2]])
def test_llm_writer_refuses_answers_without_choices(local_server, body: Any) -> None:
    server = local_server(lambda request: Reply(200, body))
    with pytest.raises(LLMError, match="choices"):
        LLMWriter(settings(server.url)).write(KETTLE)


def test_llm_writer_retries_a_server_error(local_server) -> None:
    replies = iter([Reply(500, "overloaded", {"Retry-After": "0"}), Reply(200, completion(answer(GOOD_PT)))])
    server = local_server(lambda request: next(replies))
    description = LLMWriter(settings(server.url, max_retries=1)).write(KETTLE)
    assert description.text == GOOD_PT and len(server.requests) == 2


def test_llm_writer_does_not_retry_a_refusal_nor_leak_the_key(local_server) -> None:
    def refuse(request: Request) -> Reply:
        return Reply(401, {"error": {"message": f"Incorrect API key provided: {API_KEY}"}})

    server = local_server(refuse)
    writer = LLMWriter(settings(server.url, max_retries=2))
    with pytest.raises(LLMError) as caught:
        writer.write(KETTLE)
    assert len(server.requests) == 1
    assert "401" in str(caught.value) and API_KEY not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # nothing chained holds the key
    assert isinstance(caught.value, SearchLibError) and caught.value.code == "llm_error"
    assert API_KEY not in repr(writer) and "api_key=set" in repr(writer)


def test_llm_writer_times_out(local_server) -> None:
    server = local_server(lambda request: Reply(200, completion(answer(GOOD_PT)), delay=1.0))
    with pytest.raises(LLMError, match="failed after 1 attempt") as caught:
        LLMWriter(settings(server.url, timeout=0.3, max_retries=0)).write(KETTLE)
    assert "timed out" in str(caught.value).lower() and API_KEY not in str(caught.value)


def test_llm_writer_redacts_credentials_in_the_url() -> None:
    writer = LLMWriter(LLMSettings(base_url="http://user:pa55@127.0.0.1:9/v1", model="m", api_key=API_KEY))
    assert "pa55" not in repr(writer) and API_KEY not in repr(writer)


def test_pt_writer_does_not_guess_plurals_of_foreign_attribute_names() -> None:
    facts = ProductFacts(name="Camiseta Tech", variant_values={"Colour": ["Black", "White"], "Size": ["M", "G"]})
    text = TemplateWriter("pt_BR").write(facts).text
    assert "coloures" not in text.lower() and "sizes" not in text.lower()
    assert "black" in text.lower() and "white" in text.lower()
