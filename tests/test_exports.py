"""One export style for every folder of the package (``docs/design.md``, "Exports").

A folder's ``__init__.py`` is its table of contents: a docstring, then eager
``from .module import name`` re-exports of the public names its modules list in
their ``__all__``, and an ``__all__`` of its own. It defines nothing and loads
nothing lazily, so ``from fsnet_core.<folder> import name`` and reading the
folder's ``__init__.py`` both show its whole public API.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fsnet_core"
INITS = sorted(p for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE)


def _name(init: Path) -> str:
    return ".".join(init.parent.relative_to(PACKAGE.parent).parts)


@pytest.mark.parametrize("init", INITS, ids=lambda p: _name(p))
def test_an_init_only_reexports(init: Path) -> None:
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree), f"{init}: say what the folder holds"
    allowed = (ast.ImportFrom, ast.Assign, ast.Expr)
    odd = [type(node).__name__ for node in tree.body if not isinstance(node, allowed)]
    assert not odd, f"{init}: defines or runs code ({odd}); move it to a module"
    assigned = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets]
    assert assigned == ["__all__"], f"{init}: only __all__ may be assigned, got {assigned}"
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            assert node.level == 1, f"{init}: re-export from its own modules only"
            assert all(a.name != "*" for a in node.names), f"{init}: name what is exported"


@pytest.mark.parametrize("init", INITS, ids=lambda p: _name(p))
def test_every_exported_name_is_there_and_every_module_export_is_exported(init: Path) -> None:
    package = importlib.import_module(_name(init))
    for name in package.__all__:
        assert hasattr(package, name), f"{_name(init)}.__all__ names {name!r}, which is missing"
    tree = ast.parse(init.read_text())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 1:
            module = importlib.import_module(f"{_name(init)}.{node.module}")
            if hasattr(module, "__all__"):
                missing = sorted(set(module.__all__) - set(package.__all__))
                assert not missing, f"{_name(init)} leaves out {node.module}'s {missing}"


@pytest.mark.parametrize("init", INITS, ids=lambda p: _name(p))
def test_every_module_with_an_api_is_exported_by_name_or_as_a_namespace(init: Path) -> None:
    """A module that lists ``__all__`` is part of its folder's API: the ``__init__`` says so."""
    tree = ast.parse(init.read_text())
    exported = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.level == 1}
    exported |= {
        a.name
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module is None
        for a in n.names
    }
    with_api = {
        p.stem if p.name != "__init__.py" else p.parent.name
        for p in [*init.parent.glob("*.py"), *init.parent.glob("*/__init__.py")]
        if p != init and "\n__all__" in p.read_text()
    }
    assert not with_api - exported, f"{_name(init)}: {sorted(with_api - exported)} not exported"


@pytest.mark.parametrize("init", INITS, ids=lambda p: _name(p))
def test_no_export_hides_a_module_of_the_same_name(init: Path) -> None:
    """``from fsnet_core.data import download`` must not give a function where a module is
    meant (or the other way round): a name a folder exports is not one of its modules' names,
    unless it is that module, exported as a namespace."""
    package = importlib.import_module(_name(init))
    modules = {p.stem for p in init.parent.glob("*.py")} | {
        p.parent.name for p in init.parent.glob("*/__init__.py")
    }
    hidden = [
        name
        for name in set(package.__all__) & modules
        if not inspect.ismodule(getattr(package, name))
    ]
    assert not hidden, f"{_name(init)} exports {hidden}, hiding the module(s) of that name"


def test_the_checker_sees_code_in_an_init(tmp_path: Path) -> None:
    bad = tmp_path / "__init__.py"
    bad.write_text('"""Doc."""\n\ndef helper():\n    return 1\n\n__all__ = []\n')
    tree = ast.parse(bad.read_text())
    allowed = (ast.ImportFrom, ast.Assign, ast.Expr)
    assert [type(n).__name__ for n in tree.body if not isinstance(n, allowed)] == ["FunctionDef"]
