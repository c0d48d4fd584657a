"""Tests of odoo_search_lib.config: defaults, nested dicts, environment variables, YAML files, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from odoo_search_lib.config import (
    DEFAULT_WEIGHTS,
    LANGUAGE_WEIGHTS,
    SIGNALS,
    EmbedderSettings,
    LLMSettings,
    SearchSettings,
    Settings,
    StoreSettings,
)
from odoo_search_lib.exceptions import ConfigError


@pytest.fixture
def yaml_available() -> None:
    pytest.importorskip("yaml")  # the "yaml" extra; part of the "test" extra


def test_defaults_are_valid() -> None:
    settings = Settings()
    assert settings.tenant == "default" and settings.language == "pt"
    assert settings.embedder == EmbedderSettings()
    assert settings.store.backend == "edge" and settings.store.url == ""
    assert settings.search.fusion == "rrf"
    assert isinstance(settings.search.rrf_k, int) and settings.search.rrf_k > 0
    assert dict(settings.search.weights) == DEFAULT_WEIGHTS
    assert set(DEFAULT_WEIGHTS) == set(SIGNALS) and all(weight > 0 for weight in DEFAULT_WEIGHTS.values())
    assert settings.llm.enabled is False
    assert Settings.from_dict({}) == settings
    assert Settings.from_env({}) == settings


def test_default_weights_are_not_shared() -> None:
    assert SearchSettings().weights is not SearchSettings().weights
    assert SearchSettings().weights is not DEFAULT_WEIGHTS


@pytest.mark.parametrize(
    ("given", "changed"),
    [({}, {}), ({"dense": 2}, {"dense": 2.0}), ({"chars": 0, "bm25": 4}, {"chars": 0.0, "bm25": 4.0})],
)
def test_partial_weights_keep_the_other_defaults(given: dict[str, float], changed: dict[str, float]) -> None:
    settings = Settings.from_dict({"search": {"weights": given}})
    assert dict(settings.search.weights) == {**DEFAULT_WEIGHTS, **changed}


def test_from_dict_nested() -> None:
    settings = Settings.from_dict(
        {
            "tenant": "shop_1.prod-db",
            "language": "en",
            "embedder": {"provider": "openai", "model": "text-embedding-3-small", "api_key": "sk-x", "dim": 256},
            "store": {"backend": "qdrant", "url": "https://qdrant.example:6333", "timeout": 3},
            "search": {"fusion": "weighted", "weights": {"dense": 2, "bm25": 0}, "rrf_k": 10, "default_limit": 5},
            "llm": {"base_url": "http://llm.local/v1", "model": "m", "temperature": 0},
            "redis_url": "redis://localhost:6379/0",
        }
    )
    assert settings.tenant == "shop_1.prod-db" and settings.language == "en"
    assert settings.embedder.provider == "openai" and settings.embedder.dim == 256
    assert settings.store.url == "https://qdrant.example:6333"
    assert settings.store.timeout == 3.0 and isinstance(settings.store.timeout, float)
    assert settings.search.weights == {**DEFAULT_WEIGHTS, "dense": 2.0, "bm25": 0.0}
    assert all(isinstance(value, float) for value in settings.search.weights.values())
    assert settings.search.fusion == "weighted" and settings.search.rrf_k == 10 and settings.search.default_limit == 5
    assert settings.llm.enabled is True
    assert settings.redis_url == "redis://localhost:6379/0"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"store": {"bakend": "edge"}}, "store.bakend"),
        ({"search": {"weights": {"dense": 1}, "fuse": "rrf"}}, "search.fuse"),
        ({"llm": {"url": "x"}}, "llm.url"),
    ],
)
def test_unknown_key_names_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=rf"unknown setting {key}\b"):
        Settings.from_dict(data)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"search": {"fusion": "foo"}}, "search.fusion"),
        ({"search": {"rrf_k": -1}}, "search.rrf_k"),
        ({"search": {"rrf_k": 0}}, "search.rrf_k"),
        ({"search": {"rrf_k": "many"}}, "search.rrf_k"),
        ({"search": {"rrf_k": True}}, "search.rrf_k"),
        ({"search": {"prefetch": 0}}, "search.prefetch"),
        ({"search": {"default_limit": 0}}, "search.default_limit"),
        ({"search": {"default_limit": 101}}, "search.default_limit"),
        ({"search": {"max_query_chars": -5}}, "search.max_query_chars"),
        ({"search": {"weights": {"dense": 0, "bm25": 0, "chars": 0}}}, "at least one signal"),
        ({"search": {"weights": {"dense": 1, "vibes": 1}}}, "search.weights key"),
        ({"search": {"weights": {"dense": -1, "bm25": 1}}}, "search.weights.dense"),
        ({"search": {"weights": {"dense": "heavy"}}}, "search.weights"),
        ({"search": {"weights": [1, 2]}}, "search.weights"),
        ({"search": "rrf"}, "search must be a mapping"),
        ({"tenant": "../x"}, "tenant"),
        ({"tenant": ""}, "tenant"),
        ({"tenant": "a/b"}, "tenant"),
        ({"tenant": "-lead"}, "tenant"),
        ({"tenant": "x" * 64}, "tenant"),
        ({"tenant": ["x"]}, "tenant"),
        ({"language": "fr"}, "language"),
        ({"store": {"backend": "qdrant"}}, "store.url is required"),
        ({"store": {"backend": "edge", "url": "http://localhost:6333"}}, "store.url is set"),
        ({"store": {"backend": "milvus"}}, "store.backend"),
        ({"store": {"timeout": 0}}, "store.timeout"),
        ({"store": {"prefix": "Bad-Prefix"}}, "store.prefix"),
        ({"store": {"prefix": ""}}, "store.prefix"),
        ({"store": {"quantization": "int4"}}, "store.quantization"),
        ({"embedder": {"provider": "magic"}}, "embedder.provider"),
        ({"embedder": {"provider": "openai"}}, "embedder.model"),
        ({"embedder": {"provider": "fastembed"}}, "embedder.model or embedder.path"),
        ({"embedder": {"max_retries": -1}}, "embedder.max_retries"),
        ({"embedder": {"batch_size": 0}}, "embedder.batch_size"),
        ({"embedder": {"dim": [256]}}, "embedder.dim"),
        ({"llm": {"temperature": 3}}, "llm.temperature"),
        ({"llm": {"timeout": -1}}, "llm.timeout"),
        ({"llm": {"max_retries": -2}}, "llm.max_retries"),
    ],
)
def test_bad_values(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_dict(data)
    assert fragment in str(info.value)


def test_tenant_names_accepted() -> None:
    for tenant in ("a", "odoo17", "Shop_DB.prod-2", "x" * 63):
        assert Settings(tenant=tenant).tenant == tenant


def test_direct_construction_validates() -> None:
    with pytest.raises(ConfigError):
        Settings(store=StoreSettings(backend="qdrant"))
    with pytest.raises(ConfigError):
        Settings(llm=LLMSettings(temperature=-0.1))


def test_infinite_integer_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="search.rrf_k"):
        Settings.from_dict({"search": {"rrf_k": float("inf")}})


def test_nan_weight_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="search.weights.dense"):
        Settings.from_dict({"search": {"weights": {"dense": "nan", "bm25": 1}}})


def test_from_env_prefix_nesting_and_coercion() -> None:
    environ = {
        "ODOO_SEARCH_TENANT": "shop",
        "ODOO_SEARCH_LANGUAGE": "en",
        "ODOO_SEARCH_STORE__BACKEND": "qdrant",
        "ODOO_SEARCH_STORE__URL": ":memory:",
        "ODOO_SEARCH_STORE__TIMEOUT": "2.5",
        "ODOO_SEARCH_SEARCH__RRF_K": "30",
        "ODOO_SEARCH_SEARCH__WEIGHTS__DENSE": "2",
        "ODOO_SEARCH_SEARCH__WEIGHTS__BM25": "0.5",
        "ODOO_SEARCH_EMBEDDER__MAX_RETRIES": "0",
        "ODOO_SEARCH_REDIS_URL": "redis://r:6379/1",
        "OTHER_TENANT": "ignored",
        "odoo_search_tenant": "ignored too (the prefix is case-sensitive)",
    }
    settings = Settings.from_env(environ)
    assert settings.tenant == "shop" and settings.language == "en"
    assert settings.store.backend == "qdrant" and settings.store.url == ":memory:"
    assert settings.store.timeout == 2.5
    assert settings.search.rrf_k == 30 and isinstance(settings.search.rrf_k, int)
    assert settings.search.weights == {**DEFAULT_WEIGHTS, "dense": 2.0, "bm25": 0.5}
    assert settings.embedder.max_retries == 0
    assert settings.redis_url == "redis://r:6379/1"


def test_from_env_custom_prefix() -> None:
    settings = Settings.from_env({"MYAPP_TENANT": "t1", "ODOO_SEARCH_TENANT": "t2"}, prefix="MYAPP_")
    assert settings.tenant == "t1"


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    # Setting real environment variables for the process, not patching library code.
    monkeypatch.setenv("ODOO_SEARCH_TENANT", "from_os_env")
    assert Settings.from_env().tenant == "from_os_env"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"ODOO_SEARCH_SEARCH__RRF_K": "2.5"}, "search.rrf_k"),
        ({"ODOO_SEARCH_STORE__TIMEOUT": "soon"}, "store.timeout"),
        ({"ODOO_SEARCH_SEARCH__WEIGHTS__DENSE": "x"}, "search.weights"),
        ({"ODOO_SEARCH_STORE__COLOUR": "red"}, "store.colour"),
        ({"ODOO_SEARCH_LANGUAGE": "fr"}, "language"),
    ],
)
def test_from_env_bad_values(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "environ",
    [
        {"ODOO_SEARCH_STORE": "x", "ODOO_SEARCH_STORE__URL": "http://q:6333"},
        {"ODOO_SEARCH_STORE__URL": "http://q:6333", "ODOO_SEARCH_STORE": "x"},
    ],
)
def test_from_env_conflicting_variables(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(environ)


def test_from_env_single_weight_keeps_other_defaults() -> None:
    settings = Settings.from_env({"ODOO_SEARCH_SEARCH__WEIGHTS__CHARS": "0"})
    assert dict(settings.search.weights) == {**DEFAULT_WEIGHTS, "chars": 0.0}


def test_from_yaml(yaml_available: None, tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "tenant: shop\n"
        "language: pt\n"
        "store:\n"
        "  backend: edge\n"
        "  path: /var/lib/odoo/search\n"
        "search:\n"
        "  fusion: dbsf\n"
        "  weights: {dense: 1, bm25: 2}\n"
        "  prefetch: 50\n",
        encoding="utf-8",
    )
    settings = Settings.from_yaml(path)
    assert settings.tenant == "shop"
    assert settings.store.path == "/var/lib/odoo/search"
    assert settings.search.fusion == "dbsf" and settings.search.prefetch == 50
    assert settings.search.weights == {**DEFAULT_WEIGHTS, "dense": 1.0, "bm25": 2.0}
    assert Settings.from_yaml(str(path)) == settings


def test_from_yaml_empty_file_gives_defaults(yaml_available: None, tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert Settings.from_yaml(path) == Settings()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("- a\n- b\n", "mapping at its top level"),
        ("tenant: [unclosed\n", "cannot read settings"),
        ("search:\n  fusion: foo\n", "search.fusion"),
        ("store:\n  nope: 1\n", "unknown setting store.nope"),
    ],
)
def test_from_yaml_errors(yaml_available: None, tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Settings.from_yaml(path)
    assert fragment in str(info.value)


def test_from_yaml_missing_or_binary_file(yaml_available: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings"):
        Settings.from_yaml(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"tenant: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read settings"):
        Settings.from_yaml(binary)


def test_secrets_are_not_in_repr() -> None:
    settings = Settings.from_dict(
        {
            "embedder": {"provider": "openai", "model": "m", "api_key": "sk-embedder-SECRET"},
            "store": {"backend": "qdrant", "url": "https://q.example", "api_key": "qdrant-SECRET"},
            "llm": {"base_url": "https://llm.example/v1", "model": "m", "api_key": "llm-SECRET"},
            "redis_url": "redis://:redis-SECRET@host:6379/0",
        }
    )
    text = repr(settings) + str(settings) + repr(settings.embedder) + repr(settings.store) + repr(settings.llm)
    assert "SECRET" not in text
    assert "https://q.example" in text  # the repr still shows the rest
    assert settings.store.api_key == "qdrant-SECRET"


def test_replace_revalidates() -> None:
    settings = Settings()
    assert settings.replace(tenant="other").tenant == "other"
    with pytest.raises(ConfigError):
        settings.replace(language="de")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.tenant = "x"  # type: ignore[misc]


def test_each_language_has_its_own_default_weights() -> None:
    assert set(LANGUAGE_WEIGHTS) == {"pt", "en"} and LANGUAGE_WEIGHTS["pt"] == DEFAULT_WEIGHTS
    assert dict(Settings(language="en").search.weights) == LANGUAGE_WEIGHTS["en"]
    assert dict(Settings.from_dict({"language": "en"}).search.weights) == LANGUAGE_WEIGHTS["en"]
    assert dict(Settings.from_env({"ODOO_SEARCH_LANGUAGE": "en"}).search.weights) == LANGUAGE_WEIGHTS["en"]
    # Switching the language later follows the new language's defaults too.
    assert dict(Settings().replace(language="en").search.weights) == LANGUAGE_WEIGHTS["en"]
    assert dict(Settings(language="en").replace(language="pt").search.weights) == LANGUAGE_WEIGHTS["pt"]


def test_explicit_weights_win_over_the_language_defaults() -> None:
    settings = Settings.from_dict({"language": "en", "search": {"weights": {"dense": 2}}})
    assert dict(settings.search.weights) == {**LANGUAGE_WEIGHTS["en"], "dense": 2.0}
    assert dict(settings.replace(language="pt").search.weights) == {**LANGUAGE_WEIGHTS["pt"], "dense": 2.0}
    changed = settings.search.replace(fusion="dbsf")  # another change keeps which weights were explicit
    assert changed.explicit_weights == {"dense"} and changed.for_language("pt").weights["bm25"] == 1.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("min_confidence", -0.1),
        ("min_confidence", 1.5),
        ("min_confidence", "nan"),
        ("min_confidence", "high"),
        ("min_confidence", True),
        ("coverage_boost", -1),
        ("coverage_boost", "nan"),
        ("coverage_boost", 1000),
    ],
)
def test_cut_off_and_boost_settings_are_checked(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"search.{key}"):
        Settings.from_dict({"search": {key: value}})


def test_cut_off_and_boost_defaults() -> None:
    assert Settings().search.min_confidence == 0.0 and Settings().search.coverage_boost == 2.0
    assert Settings.from_env({"ODOO_SEARCH_SEARCH__MIN_CONFIDENCE": "0.4"}).search.min_confidence == 0.4
