"""The package's layers: each folder imports only the folders below it, and no module circles.

The map (also in ``docs/design.md``), lowest first: ``io``, ``extras`` and ``runtime``;
``model``; ``flow``; ``metrics``; ``data``; ``inference`` and ``train``;
``analysis``; ``course`` (what the notebooks import); ``harness`` (what runs
the notebooks, for the command line and the tests); ``cli``. Imports
inside functions count too: a circle hidden in a function body is still a
circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fsnet_core"

BASE = {"io", "runtime", "extras"}
ALLOWED: dict[str, set[str]] = {
    "io": set(),
    "extras": set(),
    "runtime": {"io"},
    "model": BASE,
    "flow": BASE,
    "metrics": BASE,
    "data": BASE | {"model", "flow"},
    "inference": BASE | {"model", "flow", "data", "metrics"},
    "train": BASE | {"model", "flow", "data", "metrics"},
    "analysis": BASE | {"model", "flow", "data", "metrics", "inference", "train"},
    "course": BASE | {"model", "flow", "data", "metrics", "inference", "train", "analysis"},
    "harness": BASE | {"course"},
    "cli": BASE
    | {"model", "flow", "data", "metrics", "inference", "train", "analysis", "course", "harness"},
}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every ``fsnet_core`` module ``path`` imports, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "fsnet_core":
                continue
            for alias in node.names:  # ``from . import module`` imports a module
                candidate = f"{target}.{alias.name}"
                if module_path(candidate, root) is not None:
                    found.add(candidate)
                else:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "fsnet_core")
    return found


def module_path(name: str, root: Path = PACKAGE) -> Path | None:
    base = root.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_folder_is_in_the_map() -> None:
    folders = {layer(module_name(p)) for p in MODULES} - {"__init__", "__main__"}
    assert folders <= set(ALLOWED), f"add {sorted(folders - set(ALLOWED))} to the layer map"


def upward_imports(path: Path, root: Path = PACKAGE) -> list[str]:
    """The modules ``path`` imports from its own layer's betters (or a layer not in the map)."""
    own = layer(module_name(path, root))
    if own in {"__init__", "__main__"}:
        return []  # the public face re-exports from every layer
    allowed = ALLOWED.get(own, set()) | {own, "__init__"}
    return sorted(t for t in imported_modules(path, root) if layer(t) not in allowed)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_lower_layers(path: Path) -> None:
    bad = upward_imports(path)
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_no_layer_imports_the_top_level_package() -> None:
    """``from fsnet_core import X`` inside the package would load every layer."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if layer(module_name(p)) not in {"__init__", "__main__"}
        and "fsnet_core" in imported_modules(p)
    ]
    assert not offenders


def test_no_import_circle() -> None:
    graph = {module_name(p): imported_modules(p) for p in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt == node or nxt not in graph or nxt == node.rpartition(".")[0]:
                continue  # a module reaching its own package's __init__ is not a circle
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, nxt])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [start])):
            pytest.fail("import circle: " + " -> ".join(cycle))


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule can fail: a model module importing the course layer inside a function."""
    root = tmp_path / "fsnet_core"
    for folder in ("model", "course/viz"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "model" / "config.py").write_text("X = 1\n")
    bad = root / "model" / "fsnet.py"
    bad.write_text("from . import config\n\ndef f():\n    from ..course.viz import save\n")
    assert upward_imports(bad, root) == ["fsnet_core.course.viz"]
    bad.write_text("from . import config\n")
    assert upward_imports(bad, root) == []
