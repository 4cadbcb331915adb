"""The labelled audit corpora (tests/fixtures/audit_corpus, and audit_holdout written later without
sight of the mitigation gate) are consistent with their manifests and give an auditor no hint of
the answer in their comments or docstrings."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections import defaultdict
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAIRS_PER_CLASS = {"audit_corpus": 2, "audit_holdout": 1}  # flawed files (and as many twins) per class
MANIFESTS = {corpus: json.loads((FIXTURES / corpus / "manifest.json").read_text()) for corpus in PAIRS_PER_CLASS}
ENTRIES = [(corpus, entry) for corpus, manifest in MANIFESTS.items() for entry in manifest]
IDS = [f"{corpus}/{entry['file']}" for corpus, entry in ENTRIES]
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


@pytest.mark.parametrize("corpus, entry", ENTRIES, ids=IDS)
def test_entry_points_at_a_line_inside_its_function(corpus, entry):
    path = FIXTURES / corpus / entry["file"]
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


@pytest.mark.parametrize("corpus", PAIRS_PER_CLASS)
def test_each_class_has_flawed_files_and_as_many_mitigated_twins_with_one_cwe(corpus):
    by_class = defaultdict(list)
    for entry in MANIFESTS[corpus]:
        by_class[entry["class"]].append(entry)
    assert len(by_class) == 15
    for name, entries in by_class.items():
        assert sum(e["vulnerable"] for e in entries) == PAIRS_PER_CLASS[corpus], name
        assert sum(not e["vulnerable"] for e in entries) == PAIRS_PER_CLASS[corpus], name
        assert len({e["cwe"] for e in entries}) == 1, name
    assert len({entries[0]["cwe"] for entries in by_class.values()}) == len(by_class)


@pytest.mark.parametrize("corpus", PAIRS_PER_CLASS)
def test_twins_share_the_flawed_files_function(corpus):
    functions = {entry["file"]: entry["function"] for entry in MANIFESTS[corpus]}
    for file, function in functions.items():
        if "/safe_" in file:
            assert functions[file.replace("/safe_", "/vulnerable_")] == function


@pytest.mark.parametrize("corpus", PAIRS_PER_CLASS)
def test_every_corpus_file_is_in_the_manifest_once(corpus):
    listed = [entry["file"] for entry in MANIFESTS[corpus]]
    assert len(listed) == len(set(listed))
    on_disk = sorted(path.relative_to(FIXTURES / corpus).as_posix() for path in (FIXTURES / corpus).rglob("*.py"))
    assert on_disk == sorted(listed)


@pytest.mark.parametrize("corpus, entry", ENTRIES, ids=IDS)
def test_comments_and_docstrings_do_not_reveal_the_label(corpus, entry):
    text = (FIXTURES / corpus / entry["file"]).read_text()
    module_docstring = ast.get_docstring(ast.parse(text))
    assert module_docstring and "\n" not in module_docstring
    for prose in comments_and_docstrings(text):
        assert not REVEALING_WORDS.search(prose), f"{entry['file']}: {prose!r}"
