"""Constraints in the query: the parser on many phrasings, and the searcher filtering, boosting and relaxing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from odoo_search_lib import Document, Filters, QueryError, SearchIndex, Settings, Understood, parse_query
from odoo_search_lib.understand import boost_factor, merge_filters
from tests.conftest import HashingEmbedder


def _read(text: str, language: str = "pt") -> list[tuple[str, object]]:
    return [(item.kind, item.value) for item in parse_query(text, language).constraints]


@pytest.mark.parametrize(
    ("text", "expected", "rest"),
    [
        ("fone bluetooth ate 200 reais", [("price_max", 200.0)], "fone bluetooth"),
        ("fone bluetooth até 200", [("price_max", 200.0)], "fone bluetooth"),
        ("geladeira no máximo 3000 reais", [("price_max", 3000.0)], "geladeira"),
        ("tenis menos de R$ 150", [("price_max", 150.0)], "tenis"),
        ("tenis menos de R$150,00", [("price_max", 150.0)], "tenis"),
        ("mochila por no maximo 300 conto", [("price_max", 300.0)], "mochila"),
        ("notebook abaixo de 4 mil", [("price_max", 4000.0)], "notebook"),
        ("notebook ate 4k", [("price_max", 4000.0)], "notebook"),
        ("tv ate 1.5k", [("price_max", 1500.0)], "tv"),
        ("celular R$ 1.299,90", [("price_max", 1299.9)], "celular"),
        ("celular 1.299 reais", [("price_max", 1299.0)], "celular"),
        ("presente ate cem reais", [("price_max", 100.0)], "presente"),
        ("geladeira até dois mil e quinhentos reais", [("price_max", 2500.0)], "geladeira"),
        ("tenis 300 reais", [("price_max", 300.0)], "tenis"),
        ("smartphone acima de 2000", [("price_min", 2000.0)], "smartphone"),
        ("perfume a partir de R$ 80", [("price_min", 80.0)], "perfume"),
        ("panela entre 80 e 120", [("price_range", {"min": 80.0, "max": 120.0})], "panela"),
        ("panela de 80 a 120 reais", [("price_range", {"min": 80.0, "max": 120.0})], "panela"),
        ("panela de R$80 a R$120", [("price_range", {"min": 80.0, "max": 120.0})], "panela"),
        ("panela 120-80 reais", [("price_range", {"min": 80.0, "max": 120.0})], "panela"),
        ("headphones under $400", [("price_max", 400.0)], "headphones"),
        ("mouse less than 50", [("price_max", 50.0)], "mouse"),
        ("pens between 10 and 20", [("price_range", {"min": 10.0, "max": 20.0})], "pens"),
        ("lamp from $10 to $20", [("price_range", {"min": 10.0, "max": 20.0})], "lamp"),
        ("laptop over 1,299.90 dollars", [("price_min", 1299.9)], "laptop"),
        ("air fryer barata", [("cheap", True)], "air fryer"),
        ("mochila baratinha pra escola", [("cheap", True)], "mochila pra escola"),
        ("qual o notebook mais barato que voces tem", [("cheap", True)], "qual o notebook que voces tem"),
        ("fone em conta", [("cheap", True)], "fone"),
        ("cheap air fryer", [("cheap", True)], "air fryer"),
        ("affordable office chair", [("cheap", True)], "office chair"),
        ("liquidificador 110v", [("voltage", "110V")], "liquidificador"),
        ("liquidificador 127 V", [("voltage", "127V")], "liquidificador"),
        ("ventilador 220 volts", [("voltage", "220V")], "ventilador"),
        ("secador bivolt", [("voltage", "bivolt")], "secador"),
        ("boa noite, voces tem geladeira 110?", [("voltage", "110V")], "boa noite, voces tem geladeira?"),
        ("camiseta preta tamanho G", [("size", "G")], "camiseta preta"),
        ("calça tam 42", [("size", "42")], "calça"),
        ("tenis número 37", [("size", "37")], "tenis"),
        ("chinelo nº 38", [("size", "38")], "chinelo"),
        ("camisa tamanho grande", [("size", "G")], "camisa"),
        ("shirt size M", [("size", "M")], "shirt"),
        ("shirt size large", [("size", "G")], "shirt"),
        ("boots size 10", [("size", "10")], "boots"),
        ("cafeteira em estoque", [("in_stock", True)], "cafeteira"),
        ("cafeteira a pronta entrega", [("in_stock", True)], "cafeteira"),
        ("tem fone disponível?", [("in_stock", True)], "tem fone?"),
        ("coffee maker in stock", [("in_stock", True)], "coffee maker"),
    ],
)
def test_parser_reads_constraints(text: str, expected: list[tuple[str, object]], rest: str) -> None:
    parsed = parse_query(text, "pt")  # Portuguese and English phrasings are read whatever the shop's language
    assert [(item.kind, item.value) for item in parsed.constraints] == expected
    assert parsed.text == rest


def test_spelled_out_numbers_follow_the_language() -> None:
    assert _read("headphones under two hundred dollars", "en") == [("price_max", 200.0)]
    assert _read("fone ate duzentos reais", "pt") == [("price_max", 200.0)]


def test_parser_reads_several_constraints_in_query_order_with_their_words() -> None:
    parsed = parse_query("tenis tamanho 42 até 300 reais em estoque barato", "pt")
    assert parsed.text == "tenis"
    assert parsed.constraints == (
        Understood("size", "42", "tamanho 42", "boost"),
        Understood("price_max", 300.0, "até 300 reais", "filter"),
        Understood("in_stock", True, "em estoque", "filter"),
        Understood("cheap", True, "barato", "boost"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "bicicleta pra crianca de 5 a 8 anos",  # an age
        "celular em até 12x sem juros",  # instalments
        "sofa de 2 a 3 lugares",
        "mais de 2 lugares",
        "tv 55 polegadas",
        "tv 220 polegadas",
        "camiseta preta",
        "oi, voces tem air fryer grande?",
        "quebra cabeca 1000 pecas",
        "2 mil pecas",
        "sofa mais de 3",  # a count: small numbers without a currency are no price
        "camiseta all sizes",  # "sizes" is no size S
        "camiseta disponível em azul",  # a variant, not stock
        "is the shirt available in blue",
    ],
)
def test_parser_leaves_numbers_that_are_no_constraint(text: str) -> None:
    parsed = parse_query(text, "pt")
    assert parsed.constraints == ()
    assert parsed.text == text


@pytest.mark.parametrize(
    "text",
    [
        "até",
        "entre e",
        "R$",
        "de a",
        "10^30",
        "100000000000000000000000000000000 reais",  # beyond any budget: not read
        "0 reais",
        "ate 0",
        "-5 reais",
        "ate 1.2.3.4.5.6.7.8.9 reais",
        "x" * 5000,
        "ate 100 " * 700,
        "1" * 5000,
        "1." * 2500,
        "de " * 1500,
        "\ud800 ate 100 \udfff",  # lone surrogates
        "\x00\x01 110v \u200b",
        "",
        "   ",
    ],
)
def test_parser_never_crashes_and_never_returns_an_empty_text(text: str) -> None:
    parsed = parse_query(text, "pt")
    assert parsed.text or not text.strip()
    assert len(parsed.constraints) <= 10
    for item in parsed.constraints:
        assert item.kind in ("price_max", "price_min", "price_range", "cheap", "voltage", "size", "in_stock")
        if item.kind in ("price_max", "price_min"):
            assert isinstance(item.value, float) and 0 < item.value <= 1e9
    parsed.text.encode("utf-8")  # no lone surrogate left


def test_zero_and_huge_budgets_are_not_read() -> None:
    assert _read("0 reais") == []
    assert _read("ate 100000000000000000000000000000000 reais") == []


def test_a_query_that_is_only_a_constraint_keeps_its_text() -> None:
    parsed = parse_query("ate 100 reais", "pt")
    assert parsed.text == "ate 100 reais"
    assert _read("ate 100 reais") == [("price_max", 100.0)]


@pytest.mark.parametrize(("text", "language"), [("fone", "es"), ("fone", None)])
def test_unknown_language_is_a_query_error(text: str, language: object) -> None:
    with pytest.raises(QueryError) as error:
        parse_query(text, language)  # type: ignore[arg-type]
    assert error.value.code == "unsupported_language"


def test_a_query_of_the_wrong_type_is_a_query_error() -> None:
    with pytest.raises(QueryError):
        parse_query(42, "pt")  # type: ignore[arg-type]


def test_merge_filters_intersects_and_never_widens() -> None:
    budget = Understood("price_max", 300.0, "ate 300", "filter")
    floor = Understood("price_min", 100.0, "acima de 100", "filter")
    merged, understood = merge_filters(Filters(price_max=200.0, company_ids=(1,)), [budget, floor])
    assert merged == Filters(price_min=100.0, price_max=200.0, company_ids=(1,))
    assert [item.applied for item in understood] == ["filter", "filter"]
    # a parsed minimum above the caller's maximum cannot be applied: relaxed, caller's filter kept
    merged, understood = merge_filters(Filters(price_max=50.0), [floor])
    assert merged == Filters(price_max=50.0)
    assert understood[0].applied == "relaxed"
    stock = Understood("in_stock", True, "em estoque", "filter")
    merged, understood = merge_filters(Filters(in_stock=False), [stock])
    assert merged == Filters(in_stock=False) and understood[0].applied == "relaxed"
    # boosts do not touch filters; no parsed filter returns the caller's object itself
    caller = Filters(category="Roupas")
    assert merge_filters(caller, [Understood("cheap", True, "barato", "boost")])[0] is caller
    assert merge_filters(None, [])[0] is None


@pytest.mark.parametrize(
    ("wanted", "attributes", "matches"),
    [
        ("110V", {"Voltagem": "110V"}, True),
        ("127V", {"Voltagem": "110V"}, True),  # one supply
        ("110V", {"Voltagem": "Bivolt"}, True),  # works on either
        ("110V", {"Voltagem": "220V"}, False),
        ("bivolt", {"Voltagem": "110V"}, False),
        ("220V", {"Tensão": ["110V", "220V"]}, True),  # multi-valued attribute
        ("220V", {"Cor": "Preta"}, False),
    ],
)
def test_voltage_boost(wanted: str, attributes: dict[str, object], matches: bool) -> None:
    boost = [Understood("voltage", wanted, wanted, "boost")]
    factor = boost_factor(boost, {"name": "Produto", "attributes": attributes}, None)
    assert (factor > 1) is matches


def test_voltage_boost_reads_the_name_when_no_attribute_says_it() -> None:
    boost = [Understood("voltage", "110V", "110v", "boost")]
    assert boost_factor(boost, {"name": "Cafeteira 30 Xícaras 110V", "attributes": {}}, None) > 1
    assert boost_factor(boost, {"name": "Cafeteira 30 Xícaras 220V", "attributes": {}}, None) == 1


@pytest.mark.parametrize(
    ("wanted", "value", "matches"),
    [
        ("G", "G", True),
        ("G", "L", True),
        ("GG", "XL", True),
        ("G", "GG", False),
        ("M", "M (54-58 cm)", True),
        ("40", "39/40", True),
        ("41", "39-43", True),
        ("44", "39-43", False),
        ("42", [38, 40, 42], True),  # multi-valued, numbers
        ("37", [38, 40, 42], False),
        ("G", "Grande", True),
        ("42", "42", True),
        ("4", "42", False),
    ],
)
def test_size_boost(wanted: str, value: object, matches: bool) -> None:
    boost = [Understood("size", wanted, wanted, "boost")]
    factor = boost_factor(boost, {"name": "Produto", "attributes": {"Tamanho": value}}, None)
    assert (factor > 1) is matches


def test_cheap_boost_is_mild_and_favours_lower_prices() -> None:
    cheap = [Understood("cheap", True, "barato", "boost")]
    low = boost_factor(cheap, {"price": 50.0}, 100.0)
    same = boost_factor(cheap, {"price": 100.0}, 100.0)
    high = boost_factor(cheap, {"price": 1000.0}, 100.0)
    assert 1 < low <= 1.2 and same == 1 and 0.8 <= high < 1
    assert boost_factor(cheap, {"price": None}, 100.0) == 1
    assert boost_factor(cheap, {"price": 50.0}, None) == 1


def test_boosts_ignore_payloads_of_odd_shapes() -> None:
    boosts = [Understood("voltage", "110V", "110v", "boost"), Understood("size", "G", "tamanho G", "boost")]
    for payload in ({}, {"attributes": None}, {"attributes": ["110V"]}, {"attributes": {"Tamanho": {"a": 1}}}):
        assert boost_factor(boosts, payload, None) == 1


# -- the searcher ------------------------------------------------------------------------------

CATALOGUE = [
    Document("g220", "Geladeira Frost Free 375L Inox 220V", "Geladeira duplex.", "Eletro > Geladeiras",
             {"Voltagem": "220V"}, 3799.0, "BRL", True),
    Document("g110", "Geladeira Frost Free 375L Inox 110V", "Geladeira duplex.", "Eletro > Geladeiras",
             {"Voltagem": "110V"}, 3799.0, "BRL", True),
    Document("gbar", "Geladeira Frigobar 120L", "Geladeira pequena.", "Eletro > Geladeiras",
             {"Voltagem": "220V"}, 1199.0, "BRL", False),
    Document("fone1", "Fone Bluetooth TWS", "Fone sem fio.", "Eletrônicos > Fones",
             {"Cor": "Preto"}, 149.9, "BRL", True),
    Document("fone2", "Fone Bluetooth Headphone ANC", "Fone sem fio com cancelamento de ruído.", "Eletrônicos > Fones",
             {"Cor": "Preto"}, 599.9, "BRL", True),
    Document("fone3", "Fone Bluetooth Esportivo", "Fone sem fio para correr.", "Eletrônicos > Fones",
             {"Cor": "Azul"}, 179.9, "BRL", False),
    Document("cam-m", "Camiseta Algodão Preta", "Camiseta básica.", "Roupas > Camisetas",
             {"Tamanho": "M"}, 39.9, "BRL", True),
    Document("cam-g", "Camiseta Algodão Preta", "Camiseta básica.", "Roupas > Camisetas",
             {"Tamanho": "G"}, 39.9, "BRL", True),
]  # fmt: skip


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    settings = Settings.from_dict({"tenant": "understand", "store": {"path": str(tmp_path_factory.mktemp("u") / "s")}})
    with SearchIndex(settings, embedder=HashingEmbedder()) as built:
        built.upsert(CATALOGUE)
        yield built


def test_a_budget_filters_and_is_reported(index: SearchIndex) -> None:
    result = index.search("fone bluetooth ate 200 reais")
    assert result.hits and all(hit.payload["price"] <= 200 for hit in result.hits)
    assert "fone2" not in result.ids()
    assert result.understood == (Understood("price_max", 200.0, "ate 200 reais", "filter"),)
    assert result.query == "fone bluetooth ate 200 reais"


def test_an_impossible_budget_relaxes_and_says_so(index: SearchIndex) -> None:
    result = index.search("geladeira ate 10 reais")
    assert result.hits, "a parsed constraint never leaves the customer with nothing"
    assert result.ids()[0] in ("g110", "g220", "gbar")
    assert result.understood == (Understood("price_max", 10.0, "ate 10 reais", "relaxed"),)


def test_the_callers_filter_and_the_parsed_filter_intersect(index: SearchIndex) -> None:
    result = index.search("fone ate 200 reais", filters=Filters(in_stock=True))
    assert result.ids()[0] == "fone1"
    assert {"fone2", "fone3"}.isdisjoint(result.ids())  # over budget, out of stock
    assert all(hit.payload["in_stock"] and hit.payload["price"] <= 200 for hit in result.hits)
    assert result.understood[0].applied == "filter"


def test_relaxing_never_widens_the_callers_filter(index: SearchIndex) -> None:
    result = index.search("geladeira ate 10 reais", filters=Filters(in_stock=False))
    # relaxed to the caller's filter alone: out-of-stock products only (fone3, gbar), never more
    assert set(result.ids()) == {"gbar", "fone3"}
    assert result.understood[0].applied == "relaxed"


def test_in_stock_wish_filters(index: SearchIndex) -> None:
    result = index.search("fone em estoque")
    assert result.hits and all(hit.payload["in_stock"] for hit in result.hits)
    assert result.understood == (Understood("in_stock", True, "em estoque", "filter"),)


def test_voltage_boosts_the_110v_product_over_the_220v_one(index: SearchIndex) -> None:
    plain = index.search("geladeira frost free")
    assert plain.ids()[:2] == ["g220", "g110"] or plain.ids()[:2] == ["g110", "g220"]
    for query in ("geladeira frost free 110v", "geladeira frost free 127 volts"):
        result = index.search(query)
        assert result.ids()[0] == "g110"
        assert result.understood[0].kind == "voltage" and result.understood[0].applied == "boost"
    assert index.search("geladeira frost free 220v").ids()[0] == "g220"


def test_size_boosts_the_asked_size(index: SearchIndex) -> None:
    assert index.search("camiseta preta tamanho G").ids()[0] == "cam-g"
    assert index.search("camiseta preta tamanho M").ids()[0] == "cam-m"


def test_understanding_can_be_turned_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = str(tmp_path_factory.mktemp("off") / "s")
    settings = Settings.from_dict({"tenant": "off", "store": {"path": path}, "search": {"understand": "false"}})
    with SearchIndex(settings, embedder=HashingEmbedder()) as off:
        off.upsert(CATALOGUE)
        result = off.search("fone bluetooth ate 200 reais")
    assert result.understood == ()
    assert "fone2" in result.ids()


def test_rule_searches_read_no_constraints(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A business rule's query names the rule's own condition: "acima de 200 reais" must stay in it."""
    path = str(tmp_path_factory.mktemp("rules") / "s")
    settings = Settings.from_dict({"tenant": "rules", "store": {"path": path}})
    rule = Document("r1", "Frete grátis", "Frete grátis em compras acima de 200 reais.", kind="rule")
    with SearchIndex(settings, kind="rule", embedder=HashingEmbedder()) as rules:
        rules.upsert([rule])
        result = rules.search("frete gratis acima de 200 reais")
    assert result.understood == ()
    assert result.ids() == ["r1"]


def test_cheap_reorders_within_a_category(index: SearchIndex) -> None:
    """The same text is searched ("barato" removed): scores change by price against the category's median."""
    plain = {hit.id: hit.score for hit in index.search("fone bluetooth").hits}
    cheap = index.search("fone bluetooth barato")
    assert cheap.understood == (Understood("cheap", True, "barato", "boost"),)
    ratio = {hit.id: hit.score / plain[hit.id] for hit in cheap.hits}
    assert ratio["fone1"] > 1 > ratio["fone2"]  # 149.90 and 599.90 against the fones' median 179.90
    assert ratio["fone3"] == pytest.approx(1)  # the median itself
