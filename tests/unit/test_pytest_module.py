from pathlib import Path

import libcst as cst
import pytest

from swarm_lsp.swarm.codemods.pytest_module import merge_test_modules, module_path_for_tests


def _make(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


@pytest.mark.parametrize(
    ("files", "source", "expected"),
    [
        pytest.param(["pkg/mod.py"], "pkg/mod.py", "tests/test_mod.py", id="default-nothing-exists"),
        pytest.param(["pkg/mod.py", "pkg/other.py", "tests/test_other.py"], "pkg/mod.py", "tests/test_mod.py", id="flat"),
        pytest.param(
            ["pkg/sub/mod.py", "pkg/other.py", "tests/pkg/test_other.py"], "pkg/sub/mod.py",
            "tests/pkg/sub/test_mod.py", id="mirrored",
        ),
        pytest.param(
            ["src/pkg/mod.py", "src/pkg/other.py", "tests/pkg/test_other.py"], "src/pkg/mod.py",
            "tests/pkg/test_mod.py", id="src-layout-mirrored",
        ),
        pytest.param(["src/pkg/mod.py", "tests/test_other.py"], "src/pkg/mod.py", "tests/test_mod.py", id="src-layout-flat"),
        pytest.param(
            ["pkg/mod.py", "test/a_test.py", "test/b_test.py", "test/test_c.py"], "pkg/mod.py",
            "test/mod_test.py", id="suffix-naming-majority-in-test-dir",
        ),
        pytest.param(
            ["pkg/mod.py", "pkg/other.py", "pkg/test_other.py"], "pkg/mod.py", "pkg/test_mod.py", id="colocated",
        ),
        pytest.param(
            ["pkg/mod.py", "pkg/other.py", "pkg/other_test.py"], "pkg/mod.py", "pkg/mod_test.py",
            id="colocated-suffix",
        ),
        pytest.param(["pkg/__init__.py"], "pkg/__init__.py", "tests/test_pkg.py", id="package-init"),
        pytest.param(
            ["pkg/mod.py", ".venv/lib/test_x.py", "node_modules/a/x_test.py"], "pkg/mod.py", "tests/test_mod.py",
            id="ignores-venv-and-hidden",
        ),
    ],
)
def test_test_module_path_layouts(tmp_path: Path, files: list[str], source: str, expected: str) -> None:
    _make(tmp_path, *files)
    assert module_path_for_tests(tmp_path, tmp_path / source) == tmp_path / expected
    assert module_path_for_tests(tmp_path, Path(source)) == tmp_path / expected


def test_test_module_path_rejects_source_outside_workspace(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    _make(tmp_path, "elsewhere/mod.py")
    with pytest.raises(ValueError, match="not inside the workspace"):
        module_path_for_tests(tmp_path / "ws", tmp_path / "elsewhere/mod.py")
    with pytest.raises(ValueError, match="not inside the workspace"):
        module_path_for_tests(tmp_path / "ws", Path("../elsewhere/mod.py"))


EXISTING = '''"""Tests for mod."""
import os
from pkg.mod import add  # the target

CONSTANT = 3


def test_add():
    assert add(1, 2) == CONSTANT
'''

GENERATED = '''import os
import pytest
from pkg.mod import add, sub


@pytest.fixture
def numbers():
    return make_numbers()


def make_numbers():
    return (4,   1)  # odd spacing is kept


def unused_helper():
    return None


def test_add():
    assert add(2, 2) == 4


def test_sub(numbers):
    assert sub(*numbers) == 3


class TestSub:
    def test_zero(self):
        assert sub(0, 0) == 0
'''

MERGED = '''"""Tests for mod."""
import os
from pkg.mod import add  # the target
import pytest
from pkg.mod import sub

CONSTANT = 3


def test_add():
    assert add(1, 2) == CONSTANT


@pytest.fixture
def numbers():
    return make_numbers()


def make_numbers():
    return (4,   1)  # odd spacing is kept


def test_sub(numbers):
    assert sub(*numbers) == 3


class TestSub:
    def test_zero(self):
        assert sub(0, 0) == 0
'''


def test_merge_adds_imports_tests_and_needed_helpers_only() -> None:
    result = merge_test_modules(EXISTING, GENERATED)
    assert result.text == MERGED
    assert result.added_tests == ["test_sub", "TestSub"]
    assert result.skipped_duplicates == ["test_add"]
    assert result.added_imports == ["import pytest", "from pkg.mod import sub"]
    assert result.text.startswith(EXISTING.split("\nCONSTANT")[0].rsplit("\n", 1)[0])
    cst.parse_module(result.text)


def test_merge_is_idempotent_and_never_duplicates() -> None:
    once = merge_test_modules(EXISTING, GENERATED)
    twice = merge_test_modules(once.text, GENERATED)
    assert twice.text == once.text
    assert twice.added_tests == [] and twice.added_imports == []
    assert twice.skipped_duplicates == ["test_add", "test_sub", "TestSub"]


def test_merge_without_anything_new_keeps_existing_byte_for_byte() -> None:
    existing = "import os\n\n\ndef test_a():\n    pass\n\n\n# trailing comment\n"
    result = merge_test_modules(existing, "import os\n\ndef test_a():\n    assert False\n")
    assert result.text == existing
    assert result.skipped_duplicates == ["test_a"]


@pytest.mark.parametrize(
    ("existing", "generated", "expected"),
    [
        pytest.param(
            "from a import b as c, d\n",
            "from a import (\n    b as c,\n    e,\n)\nfrom a import d, f\n",
            "from a import b as c, d\nfrom a import (\n    e,\n)\nfrom a import f\n",
            id="partial-from-imports",
        ),
        pytest.param(
            '"""Doc."""\ndef test_a():\n    pass\n',
            "import pytest\nimport pytest\n",
            '"""Doc."""\n\nimport pytest\n\n\ndef test_a():\n    pass\n',
            id="no-existing-import-goes-after-docstring-once",
        ),
        pytest.param(
            '"""Doc."""\nimport os\n',
            "from __future__ import annotations\nimport sys\n",
            '"""Doc."""\n\nfrom __future__ import annotations\nimport os\nimport sys\n',
            id="future-import-goes-first",
        ),
    ],
)
def test_merge_imports(existing: str, generated: str, expected: str) -> None:
    assert merge_test_modules(existing, generated).text == expected


def test_merge_into_file_without_trailing_newline_uses_two_blank_lines() -> None:
    result = merge_test_modules("def test_a():\n    pass", "def test_b():\n    pass\n")
    assert result.text == "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n"


def test_merge_autouse_fixture_follows_added_tests() -> None:
    generated = (
        "import pytest\n\n\n@pytest.fixture(autouse=True)\ndef _env():\n    yield\n\n\n"
        "def test_b():\n    pass\n"
    )
    result = merge_test_modules("def test_a():\n    pass\n", generated)
    assert result.text == (
        "import pytest\n\n\ndef test_a():\n    pass\n\n\n"
        "@pytest.fixture(autouse=True)\ndef _env():\n    yield\n\n\ndef test_b():\n    pass\n"
    )
    assert result.added_tests == ["test_b"]


def test_merge_skips_helper_already_defined_by_user() -> None:
    result = merge_test_modules(
        "def helper():\n    return 1\n", "def helper():\n    return 2\n\n\ndef test_b():\n    assert helper()\n"
    )
    assert result.text == "def helper():\n    return 1\n\n\ndef test_b():\n    assert helper()\n"
    assert result.skipped_duplicates == ["helper"]


@pytest.mark.parametrize("existing", ["", "\n\n"])
def test_merge_into_empty_file_is_the_generated_module(existing: str) -> None:
    result = merge_test_modules(existing, GENERATED)
    assert result.text == GENERATED
    assert result.added_tests == ["test_add", "test_sub", "TestSub"]
    assert result.added_imports == ["import os", "import pytest", "from pkg.mod import add, sub"]
    assert result.skipped_duplicates == []


def test_merge_rejects_generated_code_that_does_not_parse() -> None:
    with pytest.raises(ValueError, match="generated test module does not parse: .*") as raised:
        merge_test_modules(EXISTING, "def test_x(:\n    pass\n")
    assert isinstance(raised.value.__cause__, cst.ParserSyntaxError)
