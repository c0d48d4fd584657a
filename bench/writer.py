"""Time the offline description writer (and its fact check) on a product with 10 attributes.

    python bench/writer.py [--runs 200] [--json]

Prints the median and p95 of ``TemplateWriter.write`` (which runs ``fact_check`` on its own
output) for pt_BR and en_US. Target: < 300 ms per product.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from odoo_search_lib.enrich import ProductFacts, TemplateWriter

FACTS = ProductFacts(
    name="Geladeira Frost Free Frescor Duplex 375L Inox",
    category="Eletrodomésticos > Geladeiras > Duplex",
    attributes={
        "Marca": "Frescor",
        "Capacidade": "375 L",
        "Voltagem": "220V",
        "Cor": "Inox",
        "Eficiência": "A",
        "Altura": "1,78 m",
        "Largura": "60 cm",
        "Profundidade": "70 cm",
        "Degelo": "Frost Free",
        "Garantia": "1 ano",
    },
    variant_values={"Voltagem": ["110V", "220V"]},
    tags=("cozinha", "família", "economia de energia"),
    price=3299.9,
    currency="BRL",
    sale_description="Geladeira duplex com freezer superior e prateleiras de vidro temperado.",
    website_description="<p>Design <b>moderno</b>, gavetão de legumes e iluminação LED.</p>",
    default_code="GEL-FRE-375",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = {}
    for language in ("pt_BR", "en_US"):
        writer = TemplateWriter(language)
        writer.write(FACTS)
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            description = writer.write(FACTS)
            samples.append((time.perf_counter() - started) * 1000)
        assert not description.findings, description.findings
        samples.sort()
        result[language] = {
            "p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
            "chars": len(description.text),
        }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
