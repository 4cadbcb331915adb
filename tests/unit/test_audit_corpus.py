"""The labelled audit corpus (tests/fixtures/audit_corpus) is consistent with its manifest and
gives an auditor no hint of the answer in its comments or docstrings."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections import defaultdict
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "audit_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
REVEALING_WORDS = re.compile(r"vulnerab|safe|insecure|cwe", re.IGNORECASE)


def functions_named(tree: ast.AST, name: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name]


def comments_and_docstrings(text: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    found = [token.string for token in tokens if token.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node)
            if docstring:
                found.append(docstring)
    return found


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_entry_points_at_a_line_inside_its_function(entry):
    path = CORPUS / entry["file"]
    assert path.is_file()
    text = path.read_text()
    assert 10 <= len(text.splitlines()) <= 35
    tree = ast.parse(text)
    functions = functions_named(tree, entry["function"])
    assert len(functions) == 1, f"{entry['function']} must be defined exactly once"
    function = functions[0]
    assert function.lineno <= entry["line"] <= function.end_lineno
    assert entry["file"].split("/")[0] == entry["class"]
    assert Path(entry["file"]).stem.startswith("vulnerable_" if entry["vulnerable"] else "safe_")


def test_each_class_has_two_flawed_files_and_two_mitigated_twins_with_one_cwe():
    by_class = defaultdict(list)
    for entry in MANIFEST:
        by_class[entry["class"]].append(entry)
    assert len(by_class) == 15
    for name, entries in by_class.items():
        assert sum(e["vulnerable"] for e in entries) == 2, name
        assert sum(not e["vulnerable"] for e in entries) == 2, name
        assert len({e["cwe"] for e in entries}) == 1, name
    assert len({entries[0]["cwe"] for entries in by_class.values()}) == len(by_class)


def test_twins_share_the_flawed_files_function():
    functions = {entry["file"]: entry["function"] for entry in MANIFEST}
    for file, function in functions.items():
        if "/safe_" in file:
            assert functions[file.replace("/safe_", "/vulnerable_")] == function


def test_every_corpus_file_is_in_the_manifest_once():
    listed = [entry["file"] for entry in MANIFEST]
    assert len(listed) == len(set(listed))
    on_disk = sorted(path.relative_to(CORPUS).as_posix() for path in CORPUS.rglob("*.py"))
    assert on_disk == sorted(listed)


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_comments_and_docstrings_do_not_reveal_the_label(entry):
    text = (CORPUS / entry["file"]).read_text()
    module_docstring = ast.get_docstring(ast.parse(text))
    assert module_docstring and "\n" not in module_docstring
    for prose in comments_and_docstrings(text):
        assert not REVEALING_WORDS.search(prose), f"{entry['file']}: {prose!r}"
