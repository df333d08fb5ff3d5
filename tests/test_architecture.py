"""The layer rule holds and the app's modules import each other without a cycle (in-function imports included)."""

import ast
from pathlib import Path

import grimp
import networkx as nx
import pytest

PACKAGE = "nautobot_jobflow"
APP_DIR = Path(__file__).resolve().parent.parent / PACKAGE
# In-function imports of the app's own modules the layering leaves, each with a comment saying why (issue 12).
MAX_IN_FUNCTION_IMPORTS = 10

pytestmark = pytest.mark.unit


def _import_graph():
    graph = grimp.build_graph(PACKAGE, include_external_packages=False, cache_dir=None)
    digraph = nx.DiGraph()
    for module in graph.modules:
        if ".migrations" in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if ".migrations" not in imported and imported != module:
                digraph.add_edge(module, imported)
    return digraph


def test_no_import_cycle_among_the_apps_modules():
    graph = _import_graph()
    cycles = list(nx.simple_cycles(graph, length_bound=8))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join([*cycle, cycle[0]]) for cycle in cycles[:5])


def test_the_graph_is_real():
    """The check above cannot pass by finding no modules: the engine imports the launching layer."""
    graph = _import_graph()
    assert graph.has_edge("nautobot_jobflow.engine.runner", "nautobot_jobflow.engine.run_state")
    assert graph.number_of_nodes() > 50


def _in_function_imports():
    found = []
    for path in APP_DIR.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                from_app = isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith(PACKAGE)
                plain_app = isinstance(inner, ast.Import) and any(a.name.startswith(PACKAGE) for a in inner.names)
                if from_app or plain_app:
                    found.append((path.relative_to(APP_DIR.parent), inner.lineno, lines[inner.lineno - 1]))
    return found


def test_in_function_imports_of_the_app_are_few_and_say_why():
    found = _in_function_imports()
    assert len(found) <= MAX_IN_FUNCTION_IMPORTS, "\n".join(f"{p}:{n}" for p, n, _ in found)
    uncommented = [f"{path}:{line}" for path, line, text in found if "#" not in text]
    assert uncommented == [], f"in-function imports without a comment saying why: {uncommented}"
