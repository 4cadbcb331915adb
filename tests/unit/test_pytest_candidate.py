"""Parsing a writer's reply into a pytest module: extraction, repairs, renames and selection."""

from __future__ import annotations

import ast

import pytest

from swarm_lsp.swarm.codemods.pytest_candidate import CandidateError, TargetImport, extract_code, parse_candidate

TARGET = TargetImport("pkg.text", "slugify")


def test_extract_code_takes_the_first_fence_and_tolerates_an_unclosed_one():
    assert extract_code("Here:\n```python\nx = 1\n```\nmore\n```python\ny = 2\n```") == "x = 1\n"
    assert extract_code("```py\nx = 1\n") == "x = 1\n"
    assert extract_code("x = 1") == "x = 1\n"


def test_extract_code_dedents_an_indented_block():
    assert extract_code("```python\n    def test_a():\n        pass\n```") == "def test_a():\n    pass\n"


def test_missing_imports_are_added_and_reported():
    candidate = parse_candidate("```python\ndef test_a():\n    with pytest.raises(ValueError):\n"
                                "        slugify('')\n```", TARGET)
    assert candidate.code.startswith("import pytest\nfrom pkg.text import slugify\n\n\ndef test_a():")
    assert candidate.fixes == ["added the missing `from pkg.text import slugify`"]
    assert candidate.tests == ["test_a"]


def test_a_guessed_module_path_is_replaced_by_the_real_one():
    reply = "from text import slugify, other\nimport os\n\ndef test_a():\n    assert slugify('A') == 'a'\n"
    candidate = parse_candidate(reply, TARGET)
    tree = ast.parse(candidate.code)
    imports = [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports == ["from text import other", "import os", "from pkg.text import slugify"]
    assert "replaced `from text import slugify`" in candidate.fixes[0]


def test_a_pasted_copy_of_the_target_is_removed():
    reply = "def slugify(text):\n    return text\n\ndef test_a():\n    assert slugify('a') == 'a'\n"
    candidate = parse_candidate(reply, TARGET)
    assert "def slugify" not in candidate.code
    assert "from pkg.text import slugify" in candidate.code
    assert any("removed a copy" in fix for fix in candidate.fixes)


def test_names_already_taken_or_repeated_get_a_suffix():
    reply = "def test_a():\n    pass\n\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n"
    candidate = parse_candidate(reply, TARGET, taken={"test_b"})
    assert candidate.tests == ["test_a", "test_a_2", "test_b_2"]


def test_class_methods_are_tests_and_select_keeps_only_the_chosen():
    reply = (
        "import pytest\n\n@pytest.fixture\ndef word():\n    return 'a'\n\n"
        "class TestSlug:\n    def helper(self):\n        return 1\n\n    def test_one(self, word):\n        pass\n\n"
        "    def test_two(self):\n        pass\n\n"
        "def test_three():\n    pass\n"
    )
    candidate = parse_candidate(reply, TARGET)
    assert candidate.tests == ["TestSlug::test_one", "TestSlug::test_two", "test_three"]
    selected = ast.parse(candidate.select(["TestSlug::test_two"]))
    names = [node.name for node in ast.walk(selected) if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert names == ["word", "TestSlug", "helper", "test_two"]
    assert "TestSlug" not in candidate.select(["test_three"])


def test_syntax_errors_and_replies_without_tests_are_candidate_errors():
    with pytest.raises(CandidateError, match="does not parse: line 1"):
        parse_candidate("def test_a(:\n    pass\n", TARGET)
    with pytest.raises(CandidateError, match="no test functions"):
        parse_candidate("```python\nimport os\n```", TARGET)


def test_a_test_of_independent_checks_splits_into_one_test_per_check():
    reply = (
        "import pytest\n\ndef test_many():\n    \"\"\"Doc.\"\"\"\n    assert slugify('A') == 'a'\n"
        "    with pytest.raises(ValueError):\n        slugify('')\n    assert slugify('B') == 'x'\n\n"
        "def test_other():\n    pass\n"
    )
    candidate = parse_candidate(reply, TARGET)
    assert candidate.split("test_many", set(candidate.tests)) == ["test_many_1", "test_many_2", "test_many_3"]
    assert candidate.tests == ["test_many_1", "test_many_2", "test_many_3", "test_other"]
    tree = ast.parse(candidate.code)
    bodies = {node.name: [type(s).__name__ for s in node.body] for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert bodies == {"test_many_1": ["Assert"], "test_many_2": ["With"], "test_many_3": ["Assert"],
                      "test_other": ["Pass"]}


@pytest.mark.parametrize("body", [
    "    x = slugify('A')\n    assert x == 'a'\n    assert x\n",  # shared setup: the checks depend on it
    "    with pytest.raises(ValueError) as info:\n        slugify('')\n    assert 'empty' in str(info.value)\n",
    "    assert slugify('A') == 'a'\n",  # a single check: nothing to split
])
def test_tests_whose_checks_depend_on_each_other_are_not_split(body):
    candidate = parse_candidate(f"import pytest\n\ndef test_a():\n{body}", TARGET)
    code = candidate.code
    assert candidate.split("test_a", set()) == [] and candidate.code == code


def test_module_level_test_calls_and_main_blocks_are_removed():
    reply = ("def test_a():\n    assert slugify('A') == 'a'\n\ntest_a()\n\n"
             "if __name__ == '__main__':\n    import pytest\n    pytest.main()\n")
    candidate = parse_candidate(reply, TARGET)
    assert "\ntest_a()" not in candidate.code and "__main__" not in candidate.code
    assert "removed module-level calls of the tests (pytest runs them)" in candidate.fixes
