"""The labelled documentation corpus (tests/fixtures/doc_corpus, see its README.md) cannot rot: counts and labels
hold, every source copy is the installed function minus its docstring, every check runs against the installed
function and gives the stated result, the halves are split by library, and every library is attributed."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.metadata
import inspect
import json
import textwrap
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "doc_corpus"
HALVES = ("dev", "heldout")
KINDS = ("false_return", "wrong_exception", "wrong_param_meaning", "wrong_default", "missing_behaviour")
SECTIONS = ("summary", "arg", "returns", "yields", "raises")
# The section a wrong docstring's false claim sits in, by kind (the corpus's convention, see README.md).
KIND_SECTIONS = {
    "false_return": {"returns", "yields"},
    "wrong_exception": {"raises"},
    "wrong_param_meaning": {"arg"},
    "wrong_default": {"arg"},
    "missing_behaviour": {"summary"},
}
PERMISSIVE = {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "Apache-2.0 OR BSD-2-Clause", "PSF-2.0"}


def _load(half: str) -> list[dict]:
    return json.loads((CORPUS / f"{half}.json").read_text(encoding="utf-8"))


BY_HALF = {half: _load(half) for half in HALVES}
ENTRIES = [entry for half in HALVES for entry in BY_HALF[half]]
DOCSTRINGS = [doc for entry in ENTRIES for doc in entry["docstrings"]]
CLAIMS = [claim for doc in DOCSTRINGS for claim in doc["claims"]]


def _resolve(target: str):
    module, qualname = target.split(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _without_docstring(source: str) -> ast.FunctionDef:
    func = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(func, ast.FunctionDef)
    if ast.get_docstring(func, clean=False) is not None:
        func.body = func.body[1:]
    return func


@functools.cache
def _distributions_of_top_level_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _same(a, b) -> bool:
    """Equal, of the same type and with the same repr: 1 is not True, 'x' is not Markup('x')."""
    return type(a) is type(b) and a == b and repr(a) == repr(b)


def _run_check(entry: dict, check: dict) -> None:
    namespace = dict(vars(importlib.import_module(entry["module"])))
    if "setup" in check:
        exec(check["setup"], namespace)
    if "raises" in check:
        expected = eval(check["raises"], namespace)
        with pytest.raises(Exception) as caught:
            eval(check["call"], namespace)
        assert type(caught.value) is expected, f"{check['call']} raised {caught.value!r}, not {check['raises']}"
    else:
        result = eval(check["call"], namespace)
        expected = eval(check["expect"], namespace)
        assert _same(result, expected), f"{check['call']} gave {result!r}, expected {expected!r}"


def test_counts() -> None:
    assert len(ENTRIES) >= 40
    assert all(len(BY_HALF[half]) >= 20 for half in HALVES)
    assert len(CLAIMS) >= 150
    kinds = [doc["kind"] for doc in DOCSTRINGS if doc["label"] == "wrong"]
    for kind in KINDS:
        assert kinds.count(kind) >= 15, kind
    assert len({entry["id"] for entry in ENTRIES}) == len(ENTRIES)
    assert len({doc["id"] for doc in DOCSTRINGS}) == len(DOCSTRINGS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_labels(entry: dict) -> None:
    docs = entry["docstrings"]
    assert [doc["label"] for doc in docs].count("correct") == 1
    assert [doc["label"] for doc in docs].count("wrong") >= 2
    for doc in docs:
        false = [claim for claim in doc["claims"] if claim["label"] is False]
        if doc["label"] == "correct":
            assert doc["kind"] is None and not false, doc["id"]
        else:
            assert doc["label"] == "wrong" and doc["kind"] in KINDS, doc["id"]
            assert len(false) == 1, doc["id"]
            assert false[0]["section"] in KIND_SECTIONS[doc["kind"]], doc["id"]
            assert false[0]["checks"], f"{doc['id']}: a false claim needs a check showing the code contradicting it"
        flat_text = " ".join(doc["text"].split())
        for claim in doc["claims"]:
            assert claim["label"] in (True, False)
            assert claim["section"] in SECTIONS
            assert claim["why"].strip() and claim["text"].strip()
            assert (claim["name"] is not None) == (claim["section"] in ("arg", "raises"))
            assert " ".join(claim["text"].split()) in flat_text, (doc["id"], claim["text"])
    assert any(claim["checks"] for doc in docs for claim in doc["claims"]), entry["id"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_source_copy_parses_and_has_no_docstring(entry: dict) -> None:
    func = ast.parse(entry["source"]).body
    assert len(func) == 1 and isinstance(func[0], ast.FunctionDef)
    assert func[0].name == entry["qualname"].split(".")[-1]
    assert ast.get_docstring(func[0]) is None
    assert entry["kind"] == ("method" if "." in entry["qualname"] else "function")
    assert entry["import"] == f"{entry['module']}:{entry['qualname']}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_source_copy_matches_installed_code(entry: dict) -> None:
    installed = _without_docstring(inspect.getsource(_resolve(entry["import"])))
    copy = ast.parse(entry["source"]).body[0]
    assert ast.dump(copy) == ast.dump(installed), f"{entry['import']} changed in the installed {entry['distribution']}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_context_is_verbatim(entry: dict) -> None:
    for context in entry["context"]:
        assert context["text"] in inspect.getsource(importlib.import_module(context["module"])), context


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_checks_hold_against_installed_code(entry: dict) -> None:
    checks = [check for doc in entry["docstrings"] for claim in doc["claims"] for check in claim["checks"]]
    assert checks
    for check in checks:
        assert ("expect" in check) != ("raises" in check), check
        assert set(check) <= {"setup", "call", "expect", "raises"}, check
        _run_check(entry, check)


def test_halves_disjoint_by_library_and_split_rule() -> None:
    libraries = {half: {entry["library"] for entry in BY_HALF[half]} for half in HALVES}
    assert not libraries["dev"] & libraries["heldout"]
    for half in HALVES:
        for entry in BY_HALF[half]:
            assert entry["half"] == half
            assert entry["library"] == canonicalize_name(entry["distribution"])
            parity = hashlib.sha256(entry["library"].encode()).digest()[0] % 2
            assert half == ("dev" if parity == 0 else "heldout"), entry["id"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_provenance(entry: dict) -> None:
    assert entry["license"] in PERMISSIVE
    # Installed, at the recorded version or a later one: what guards the labels across an upgrade
    # is that the source and every check still match (test_source_copy_matches_installed_code,
    # test_checks_hold_against_installed_code).
    assert importlib.metadata.version(entry["distribution"])
    top = entry["module"].split(".")[0]
    assert entry["distribution"] in _distributions_of_top_level_modules()[top]


def test_every_library_attributed_with_its_licence() -> None:
    attribution = (CORPUS / "ATTRIBUTION.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(): line for line in attribution.splitlines() if line.startswith("| ")}
    for entry in ENTRIES:
        row = rows.get(entry["distribution"])
        assert row is not None, entry["distribution"]
        assert f"| {entry['version']} |" in row and f"| {entry['license']} |" in row and entry["project_url"] in row
        licence_text = (CORPUS / "licenses" / f"{entry['distribution']}.txt").read_text(encoding="utf-8")
        for line in entry["copyright"]:
            assert line in row and line in licence_text, line
