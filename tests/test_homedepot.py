"""bench/homedepot.py: the Home Depot files (plain or zipped, Latin-1) into products, queries and graded qrels."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from odoo_search_lib import load_jsonl
from odoo_search_lib.evaluate import load_qrels, load_queries

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "homedepot.py"
_spec = importlib.util.spec_from_file_location("homedepot", SCRIPT)
assert _spec is not None and _spec.loader is not None
homedepot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(homedepot)

TRAIN = """"id","product_uid","product_title","search_term","relevance"
2,100001,"Simpson Strong-Tie 12-Gauge Angle","angle bracket",3
3,100001,"Simpson Strong-Tie 12-Gauge Angle","l bracket",2.5
9,100002,"BEHR Premium Textured DeckOver 1-gal.","angle bracket",2.33
16,100005,"Delta Vero 1-Handle Shower Only Faucet Trim Kit","angle bracket",1.67
17,100006,"Whirlpool 1.9 cu. ft. Over the Range Convection Microwave","l bracket",2.67
18,100007,"Lithonia Lighting Quantum 2-Light Black LED Emergency Fixture","emergency light",3
19,100008,"Sch\xe4fer Lampe","emergency light",1
"""
DESCRIPTIONS = """"product_uid","product_description"
100001,"Not only do angles make joints stronger, they also provide   more consistent corners."
100002,"BEHR Premium Textured DECKOVER is an innovative solid color coating."
100007,"Use this light in an emergency."
"""
ATTRIBUTES = """"product_uid","name","value"
100001.0,"Bullet01","Versatile connector for various 90 degree connections"
100001.0,"MFG Brand Name","Simpson Strong-Tie"
100002.0,"MFG Brand Name","BEHR Premium Textured DeckOver"
100005.0,"MFG Brand Name","Unbranded"
"""


def _write(path: Path, text: str, zipped: bool = False) -> str:
    data = text.encode("latin-1")
    if zipped:
        with zipfile.ZipFile(path.with_suffix(".csv.zip"), "w") as archive:
            archive.writestr(path.name, data)
        return str(path.with_suffix(".csv.zip"))
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("zipped", [False, True])
def test_prepares_products_queries_and_graded_qrels(tmp_path: Path, zipped: bool) -> None:
    train = _write(tmp_path / "train.csv", TRAIN, zipped)
    descriptions = _write(tmp_path / "product_descriptions.csv", DESCRIPTIONS, zipped)
    attributes = _write(tmp_path / "attributes.csv", ATTRIBUTES, zipped)
    out = tmp_path / "set"
    argv = ["--train", train, "--descriptions", descriptions, "--attributes", attributes, "--out", str(out)]
    assert homedepot.main([*argv, "--min-judged", "3", "--distractors", "1"]) == 0
    queries = load_queries(out / "queries.tsv")
    qrels = load_qrels(out / "qrels.tsv")
    assert list(queries.values()) == ["angle bracket"]  # the one search term with 3 judged products
    assert qrels[next(iter(queries))] == {"hd100001": 2, "hd100002": 1, "hd100005": 0}
    products = {doc.id: doc for doc in load_jsonl(str(out / "products.jsonl")).documents}
    judged = {"hd100001", "hd100002", "hd100005"}
    assert judged < set(products) and len(products) == len(judged) + 1  # one distractor
    angle = products["hd100001"]
    assert angle.name == "Simpson Strong-Tie 12-Gauge Angle"
    assert angle.description == "Not only do angles make joints stronger, they also provide more consistent corners."
    assert dict(angle.attributes) == {"brand": "Simpson Strong-Tie"}
    assert not products["hd100005"].attributes  # "Unbranded" is no brand


def test_grades_follow_the_mean_rating() -> None:
    # 3 raters: 3,3,2 = 2.67 is grade 2; 2,2,2 or 3,2,1 = 2.0 is grade 1; 2,2,1 = 1.67 is grade 0.
    assert [homedepot.grade(value) for value in (3, 2.67, 2.5, 2.33, 2.0, 1.67, 1)] == [2, 2, 1, 1, 1, 0, 0]


def test_titles_alone_and_latin1_text(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.csv", TRAIN)
    out = tmp_path / "set"
    assert homedepot.main(["--train", train, "--out", str(out), "--min-judged", "1", "--distractors", "0"]) == 0
    rows = [json.loads(line) for line in (out / "products.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {"id": "hd100008", "name": "Schäfer Lampe"} in rows and all(set(row) == {"id", "name"} for row in rows)
    assert len(load_queries(out / "queries.tsv")) == 3


def test_the_same_seed_draws_the_same_set(tmp_path: Path) -> None:
    train = _write(tmp_path / "train.csv", TRAIN)
    runs = []
    for name in ("a", "b"):
        homedepot.main(["--train", train, "--out", str(tmp_path / name), "--queries", "1", "--min-judged", "1"])
        runs.append([(tmp_path / name / file).read_text() for file in ("queries.tsv", "qrels.tsv", "products.jsonl")])
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    ("content", "extra"),
    [
        ('"id","product_uid","product_title"\n1,100001,"x"\n', []),  # no search_term/relevance column
        (TRAIN.replace(",3\n", ",high\n", 1), []),  # a relevance that is not a number
        ("PK\x03\x04 not really a zip", []),
        (TRAIN, ["--queries", "0"]),
        (TRAIN, ["--distractors", "-1"]),
    ],
)
def test_bad_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, extra: list[str]
) -> None:
    train = _write(tmp_path / "train.csv", content)
    try:
        code = homedepot.main(["--train", train, "--out", str(tmp_path / "set"), *extra])
    except SystemExit as exc:  # argparse refuses bad numbers
        code = exc.code
    assert code == 2 and not (tmp_path / "set" / "qrels.tsv").exists()


def test_a_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert homedepot.main(["--train", str(tmp_path / "none.csv"), "--out", str(tmp_path / "set")]) == 2
    assert "cannot read" in capsys.readouterr().err
