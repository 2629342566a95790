"""The import graph of absa/src is a tree read bottom-up (no circle), and the modules that only read results files
never import torch."""

import ast
import subprocess
import sys

from conftest import REPO

SOURCE = REPO / "absa" / "src"


def module_name(path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports() -> dict[str, set[str]]:
    """Module -> the absa.src modules it imports (at any depth in the file)."""
    graph = {}
    for path in SOURCE.rglob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("absa.src"):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                imported |= {name for name in names if (SOURCE.parent / (name.replace(".", "/") + ".py")).exists()}
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names if alias.name.startswith("absa.src")}
        graph[module_name(path)] = imported - {module_name(path), "absa.src", "absa.src.ablation"}
    return graph


def test_the_import_graph_has_no_circle():
    graph = project_imports()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import circle: " + " -> ".join([*path, module])
        state[module] = "open"
        for imported in graph.get(module, ()):
            visit(imported, [*path, module])
        state[module] = "done"

    for module in graph:
        visit(module, [])


def test_every_module_says_what_it_is_for_at_the_top():
    for path in SOURCE.rglob("*.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, f"{path.relative_to(REPO)} has no module docstring"


def test_reading_results_never_imports_torch():
    modules = [
        "absa.src.ablation.ledger",
        "absa.src.ablation.selection",
        "absa.src.ablation.runner",
        "absa.src.report",
        "absa.src.config",
        "absa.src.records",
        "absa.src.model_card",
    ]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"
