"""The shape of the code: layers point one way, and the domain lives in the knowledge files only."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "indicated"
DOMAIN = re.compile(r"lumbar|thoracic|cervical|spin(e|al)|discectomy|fusion|stenosis|radicul|sciatica", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    """Lines of every docstring (module, class, function)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines |= set(range(first.lineno, first.end_lineno + 1))
    return lines


def domain_words_in_code(path: Path) -> list[str]:
    """Where a file's code (not its comments or docstrings) names the spine."""
    source = path.read_text()
    docs = _docstrings(ast.parse(source))
    hits = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NAME, tokenize.STRING) and tok.start[0] not in docs and DOMAIN.search(tok.string):
            hits.append(f"{path.relative_to(SRC)}:{tok.start[0]}: {tok.string[:60]}")
    return hits


def test_no_python_file_names_the_domain():
    """A new domain is new knowledge, not new code: concepts, regions and levels live in the YAML files."""
    hits = [h for path in sorted(SRC.rglob("*.py")) for h in domain_words_in_code(path)]
    assert not hits, "\n".join(hits)


# From the bottom up; a module may import its own layer and those below it, never one above.
LAYERS = [
    ("knowledge", {"errors", "models", "cache", "kb", "wording", "reasons", "search", "needles"}),
    ("extract", {"extract"}),
    ("route", {"route"}),
    ("evaluate", {"evaluate"}),
    ("explain", {"explain"}),
    ("render", {"render"}),
    ("engine", {"engine", "ask"}),
    ("adapters", {"pipeline", "inputs", "compare", "scoring", "fhir", "batch", "suites"}),
    ("interfaces", {"cli", "service", "__init__", "__main__"}),
]


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _layer(module: str) -> int:
    first = module.split(".")[0]
    for i, (_, members) in enumerate(LAYERS):
        if module in members or first in members:
            return i
    raise AssertionError(f"{module} belongs to no layer; add it to LAYERS")


def _imports(path: Path) -> set[str]:
    """The package modules a file imports, at any depth, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in node.body
        for n in ast.walk(child)
    }
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("indicated"):
            names = [f"{node.module}.{a.name}" for a in node.names]
            out |= {n for n in names if _is_module(n)} or {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("indicated")}
    return {m.removeprefix("indicated.").removeprefix("indicated") or "__init__" for m in out}


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel / "__init__.py").exists()


GRAPH = {_module(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def test_imports_point_down_the_layers():
    """knowledge <- extract <- route <- evaluate <- explain <- render <- engine <- adapters <- interfaces."""
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {target} ({LAYERS[_layer(target)][0]})"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    """Not even through an import inside a function: a circle means two modules are one job."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    circles = sorted(m for m in GRAPH if m in reach(m))
    assert not circles, circles
