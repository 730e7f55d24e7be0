"""reporting/ has no import cycle, counting imports inside functions, and imports only downward."""

import ast
from pathlib import Path

import beyondadam.reporting

PKG = Path(beyondadam.reporting.__file__).parent
PREFIX = "beyondadam.reporting"


def _imports(path: Path) -> set[str]:
    """Every ``beyondadam...`` module ``path`` imports, wherever the import statement is."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("beyondadam")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("beyondadam"):
                out.add(node.module)
                # ``from beyondadam.reporting import results`` imports a module too
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _graph() -> dict[str, set[str]]:
    modules = {f"{PREFIX}.{p.stem}": p for p in PKG.glob("*.py") if p.stem != "__init__"}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle_in_reporting():
    graph = _graph()
    assert graph[f"{PREFIX}.pipeline"]  # the pipeline imports its stages directly
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_reporting_imports_only_lower_layers():
    for path in PKG.glob("*.py"):
        assert not any(i.startswith("beyondadam.cli") for i in _imports(path)), path.name
