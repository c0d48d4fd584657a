"""Tests of the package surface: exports, the exception tree, typing marker and version."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import shutil
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import odoo_search_lib
from odoo_search_lib import exceptions

PACKAGE_DIR = Path(odoo_search_lib.__file__).resolve().parent
SETUP_PY = PACKAGE_DIR.parent / "setup.py"

EXCEPTION_CLASSES = [
    obj
    for _, obj in inspect.getmembers(exceptions, inspect.isclass)
    if issubclass(obj, BaseException) and obj.__module__ == exceptions.__name__
]


def test_all_names_exist_and_import() -> None:
    names = odoo_search_lib.__all__
    assert len(names) == len(set(names))
    namespace: dict[str, object] = {}
    exec("from odoo_search_lib import *", namespace)  # the star import is what is tested
    for name in names:
        assert hasattr(odoo_search_lib, name), name
        assert namespace[name] is getattr(odoo_search_lib, name)


def test_all_exports_every_exception() -> None:
    assert set(exceptions.__all__) <= set(odoo_search_lib.__all__)
    assert {cls.__name__ for cls in EXCEPTION_CLASSES} == set(exceptions.__all__)


@pytest.mark.parametrize(
    "module",
    [
        "text",
        "sparse",
        "documents",
        "config",
        "evaluate",
        "types",
        "exceptions",
        "store",
        "store.base",
        "store.edge",
        "rules",
        "chatwoot",
        "chatwoot.events",
        "chatwoot.signature",
        "chatwoot.rules",
        "chatwoot.client",
        "chatwoot.testing",
    ],
)
def test_submodule_all_names_exist(module: str) -> None:
    loaded = importlib.import_module(f"odoo_search_lib.{module}")
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"odoo_search_lib.{module}.{name}"


@pytest.mark.parametrize("cls", EXCEPTION_CLASSES, ids=lambda cls: cls.__name__)
def test_exception_derives_from_base_with_code(cls: type[Exception]) -> None:
    assert issubclass(cls, exceptions.SearchLibError)
    assert isinstance(cls.code, str) and cls.code
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.code)
    # The code is the class's own, not inherited from its parent.
    assert "code" in vars(cls)


def test_exception_codes_are_distinct() -> None:
    codes = [cls.code for cls in EXCEPTION_CLASSES]
    assert len(EXCEPTION_CLASSES) >= 15
    assert len(codes) == len(set(codes))


def test_exception_instances() -> None:
    error = exceptions.StoreLockedError("busy")
    assert (str(error), error.message, error.code) == ("busy", "busy", "store_locked")
    assert isinstance(error, exceptions.StoreError)
    custom = exceptions.ConfigError("bad", code="custom_code")
    assert custom.code == "custom_code"
    assert exceptions.ConfigError.code == "config_error"  # the override stays on the instance
    document = exceptions.DocumentError("no name", line=4, code="missing_name")
    assert (str(document), document.line, document.code) == ("line 4: no name", 4, "missing_name")


@pytest.mark.parametrize("cls", [exceptions.InvalidInputError, exceptions.DocumentError, exceptions.QueryError])
def test_invalid_input_errors_are_value_errors(cls: type[Exception]) -> None:
    assert issubclass(cls, ValueError)
    with pytest.raises(ValueError):
        raise cls("bad")


def test_other_errors_are_not_value_errors() -> None:
    assert not issubclass(exceptions.StoreError, ValueError)
    assert not issubclass(exceptions.ConfigError, ValueError)


def test_py_typed_marker_is_shipped() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()
    setup_source = SETUP_PY.read_text(encoding="utf-8")
    assert '"py.typed"' in setup_source


def test_version_matches_setup_source(tmp_path: Path) -> None:
    assert isinstance(odoo_search_lib.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)?", odoo_search_lib.__version__)
    # Run the real setup.py in a scratch copy with the version file it reads (and a stand-in README.md,
    # which setup.py also reads), so the check does not depend on the rest of the working tree.
    (tmp_path / "odoo_search_lib").mkdir()
    shutil.copy(SETUP_PY, tmp_path / "setup.py")
    shutil.copy(PACKAGE_DIR / "_version.py", tmp_path / "odoo_search_lib" / "_version.py")
    (tmp_path / "README.md").write_text("stand-in\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "setup.py", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == odoo_search_lib.__version__


def test_package_never_imports_odoo() -> None:
    offenders = []
    for path in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}: {m}" for m in modules if m == "odoo" or m.startswith("odoo.")]
    assert offenders == []


def _public_modules() -> list[str]:
    """The package and every submodule without a ``_``-prefixed part in its name, that has an ``__all__``."""
    names = [odoo_search_lib.__name__]
    for info in pkgutil.walk_packages(odoo_search_lib.__path__, f"{odoo_search_lib.__name__}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return [name for name in names if hasattr(importlib.import_module(name), "__all__")]


def _public_callables(module_name: str) -> Iterator[tuple[str, Callable[..., object] | type]]:
    """Every exported function and class of ``module_name``, and the public methods of those classes."""
    module = importlib.import_module(module_name)
    for name in module.__all__:
        obj = getattr(module, name)
        where = f"{module_name}.{name}"
        if inspect.isfunction(obj):
            yield where, obj
        elif inspect.isclass(obj):
            yield where, obj  # its annotated fields (dataclasses, TypedDicts, NamedTuples)
            for klass in obj.__mro__:
                if not klass.__module__.startswith(odoo_search_lib.__name__):
                    continue
                for attr, member in vars(klass).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    elif isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member):
                        yield f"{where}.{attr}", member


def _has_any(annotation: object) -> bool:
    if annotation is typing.Any:
        return True
    if isinstance(annotation, typing.ForwardRef):  # left unresolved inside a recursive alias such as JSONValue
        return re.search(r"\bAny\b", annotation.__forward_arg__) is not None
    return any(_has_any(arg) for arg in typing.get_args(annotation))


def _any_annotations(where: str, obj: Callable[..., object] | type) -> list[str]:
    hints = typing.get_type_hints(obj)  # fails on an annotation that does not resolve: that is a bug too
    if inspect.isclass(obj):
        return [
            f"{where}.{name}: {hint}" for name, hint in hints.items() if not name.startswith("_") and _has_any(hint)
        ]
    signature = inspect.signature(obj)
    found = [
        f"{where}({name}: {hints[name]})" for name in signature.parameters if name in hints and _has_any(hints[name])
    ]
    if "return" in hints and _has_any(hints["return"]):
        found.append(f"{where} -> {hints['return']}")
    return found


def test_public_signatures_never_use_any() -> None:
    """No ``typing.Any`` in what the package exports (issue 12, item 7): functions, classes, their public methods.

    Private helpers (``_``-prefixed names and modules) may keep ``Any``.
    """
    modules = _public_modules()
    assert {"odoo_search_lib", "odoo_search_lib.rules", "odoo_search_lib.assistant.evaluate"} <= set(modules)
    offenders = [
        problem
        for module in modules
        for where, obj in _public_callables(module)
        for problem in _any_annotations(where, obj)
    ]
    assert offenders == []
