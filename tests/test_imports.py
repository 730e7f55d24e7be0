"""The import graph of ``src/beyondadam``: no cycles, and arrows only point down the layers.

Every module is parsed with :mod:`ast`, so imports inside functions (and under
``if TYPE_CHECKING:``) count as much as those at the top: a cycle hidden in a function is still a
cycle. Layers, bottom to top: the top-level modules (``beyondadam/schedules.py``, ...) < optim <
sim < experiments < reporting < cli; ``beyondadam/__main__.py``, the entry point, sits above cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "beyondadam"
LAYERS = ("", "optim", "sim", "experiments", "reporting", "cli")
ENTRY_POINT = f"{PACKAGE}.__main__"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that importing ``name`` runs (its longest known prefix)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that ``module`` imports anywhere in its body."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
            names = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    # ``from pkg import sub`` also adds ``pkg``; drop that arrow where a more precise one exists.
    for m, targets in graph.items():
        graph[m] = {t for t in targets if not any(o.startswith(t + ".") for o in targets)}
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def _rank(module: str) -> int:
    if module == ENTRY_POINT:
        return len(LAYERS)
    return LAYERS.index(_layer(module))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


GRAPH = _graph()


@pytest.mark.parametrize("layer", [name or "top-level" for name in LAYERS])
def test_layer_has_no_cycle_and_no_upward_import(layer):
    name = "" if layer == "top-level" else layer
    mine = {m for m in GRAPH if m != ENTRY_POINT and _layer(m) == name}
    assert mine, f"no modules found for layer {layer!r}"
    cycles = [c for c in _cycles(GRAPH) if mine & set(c)]
    assert not cycles, f"import cycles through layer {layer!r}: {cycles}"
    upward = sorted(f"{m} -> {t}" for m in mine for t in GRAPH[m] if _rank(t) > LAYERS.index(name))
    assert not upward, f"imports pointing up from layer {layer!r}: {upward}"


def test_the_checker_sees_cycles_and_imports_inside_functions(tmp_path):
    """The graph builder finds an import inside a function, and Tarjan finds the cycle."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (pkg / "c.py").write_text("from . import b\n")
    modules = {"pkg": pkg / "__init__.py", **{f"pkg.{n}": pkg / f"{n}.py" for n in "abc"}}
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    assert "pkg.a" in graph["pkg.b"]
    assert "pkg.b" in graph["pkg.c"]
    assert _cycles(graph) == [["pkg.a", "pkg.b"]]
    assert _rank("beyondadam.schedules") < _rank("beyondadam.optim.adam") < _rank(ENTRY_POINT)
