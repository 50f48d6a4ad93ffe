"""The shape of ``cases/``: modules small enough to read in one sitting, functions short enough to
see whole, and no import hidden inside a function without a comment saying why.

The import arrows themselves are checked by ``lint-imports`` (contracts in ``pyproject.toml``).
"""

import ast
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parent.parent / "cases"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def modules():
    return sorted(path for path in CASES.rglob("*.py") if "migrations" not in path.parts)


def functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(CASES)))
def test_every_module_of_cases_is_at_most_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_no_function_in_cases_is_longer_than_50_lines():
    long = []
    for path in modules():
        for node in functions(ast.parse(path.read_text())):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(CASES)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []


def test_every_import_inside_a_function_says_why_it_is_not_at_the_top():
    """A comment on the lines just above the import, or on the import's own line."""
    unexplained = []
    for path in modules():
        lines = path.read_text().splitlines()
        for function in functions(ast.parse("\n".join(lines))):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    above = lines[max(node.lineno - 4, 0) : node.lineno - 1]
                    if "#" not in lines[node.lineno - 1] and not any(line.strip().startswith("#") for line in above):
                        unexplained.append(f"{path.relative_to(CASES)}:{node.lineno}")
    assert unexplained == []


def test_the_checks_see_a_long_function(tmp_path):
    """The measuring itself works: a 60-line function is found."""
    source = "def long():\n" + "    x = 1\n" * 59
    (node,) = functions(ast.parse(source))
    assert node.end_lineno - node.lineno + 1 == 60
