"""Dependencies point one way, following the data: identity → blacklist → scoring → disputes.

Checked on the source (every import, at any indentation), so a function-level import that hides
a cycle fails here too.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["identity", "blacklist", "scoring", "disputes"]


def imports_of(app):
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield path, node.module.split(".")[0]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]


def test_no_app_imports_an_app_downstream_of_it():
    wrong = []
    for rank, app in enumerate(LAYERS):
        for path, target in imports_of(app):
            if target in LAYERS and LAYERS.index(target) > rank:
                wrong.append(f"{path.relative_to(ROOT)} imports {target}")
    assert wrong == []
