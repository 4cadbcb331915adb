"""The differential check's boundary variations that real refactor mistakes needed (issue 16): a
float that truncates down but rounds up, a dict entry emptied, a keyword the function does not know,
two objects given the same attribute, the value of an int subclass's instance, a string as long as
an integer argument says, and observed calls of a new shape used first. Each rewrite below passes the project's tests and differs only on an input
that one of these variations builds (scripted writer, real sandboxed pytest and side-by-side runs)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from swarm_lsp.swarm.verify.differential_inputs import NO_DEFAULT, Param
from swarm_lsp.swarm.verify.differential_strategies import draw, param_strategy
from swarm_lsp.swarm.verify.differential_variants import string_variants
from tests.unit.test_differential import rejected, write_project

SHOP = textwrap.dedent('''\
    from collections import namedtuple

    Parcel = namedtuple("Parcel", "owner weight")
    STYLES = {"bold": 1, "red": 31}
    ELLIPSIS = "..."


    def minutes(seconds: float) -> str:
        whole = round(seconds)
        return f"{whole // 60}m {whole % 60}s"


    def label(options):
        name = options.get("name")
        return "anonymous" if name is None else name


    def styled(text, **style):
        for name in style:
            if name not in STYLES:
                raise ValueError(name)
        codes = [STYLES[name] for name, on in style.items() if on]
        return "".join(f"<{code}>" for code in codes) + text


    def first_owner(a, b):
        return a if a.owner < b.owner else b


    class Size(int):
        def label(self):
            return f"{self / 1024:.1f}K" if self >= 1024 else f"{int(self)}B"


    def clip(text, width):
        assert width >= len(ELLIPSIS)
        return text if len(text) <= width else text[:width - len(ELLIPSIS)] + ELLIPSIS


    def alpha(value):
        if value.endswith("%"):
            return float(value[:-1]) / 100
        return float(value)
''')
TESTS = textwrap.dedent('''\
    from shop import Parcel, Size, alpha, clip, first_owner, label, minutes, styled


    def test_minutes():
        assert minutes(125) == "2m 5s"

    def test_label():
        assert label({"name": "ann"}) == "ann"

    def test_styled():
        assert styled("hi", bold=True, red=False) == "<1>hi"

    def test_first_owner():
        assert first_owner(Parcel("ann", 2), Parcel("bob", 1)).weight == 2

    def test_size():
        assert Size(2048).label() == "2.0K" and Size(10).label() == "10B"

    def test_clip():
        assert clip("ab", 6) == "ab" and clip("abcdefghij", 6) == "abc..."

    def test_alpha():
        for text in ("0.5", "1.0", "0.25", "0.75", "0.1", "0.2", "0.3"):
            assert alpha(text) == float(text)
        assert alpha("100%") == 1.0
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, SHOP, TESTS)


async def found_on_a_boundary(project: Path, target: str, rewrite: str) -> str:
    """The counterexample for `rewrite`, which must come from a boundary input (not a generated one)."""
    result, reason = await rejected(project, target, rewrite)
    assert result.evidence["differential"]["divergences"][0]["source"] == "boundary", result.evidence["differential"]
    return reason


async def test_a_float_just_above_a_constant_shows_int_written_for_round(project):
    reason = await found_on_a_boundary(project, "minutes", "def minutes(seconds: float) -> str:\n"
                                       "    whole = int(seconds)\n    return f'{whole // 60}m {whole % 60}s'")
    assert re.match(r"for minutes\(\d+\.\d+\) the original returns '\d+m \d+s', the rewrite returns", reason), reason


async def test_a_dict_entry_emptied_shows_or_written_for_is_none(project):
    reason = await found_on_a_boundary(project, "label",
                                       "def label(options):\n    return options.get('name') or 'anonymous'")
    assert reason.startswith("for label({'name': ''}) the original returns '', the rewrite returns 'anonymous'"), reason


async def test_a_keyword_the_function_does_not_know_shows_a_dropped_check(project):
    reason = await found_on_a_boundary(project, "styled", "def styled(text, **style):\n"
                                       "    codes = [STYLES[name] for name, on in style.items() if on]\n"
                                       "    return ''.join(f'<{code}>' for code in codes) + text")
    assert "unexpected_keyword=True" in reason and "the original raises ValueError" in reason, reason


async def test_two_objects_given_the_same_attribute_show_a_tie_decided_the_other_way(project):
    reason = await found_on_a_boundary(project, "first_owner",
                                       "def first_owner(a, b):\n    return a if a.owner <= b.owner else b")
    tie = re.match(r"for first_owner\(Parcel\(owner='(\w+)', weight=2\), (Parcel\(owner='\1', weight=1\))\) "
                   r"the original returns (.*?), the rewrite returns Parcel\(owner='\1', weight=2\)", reason)
    assert tie and tie.group(3) == tie.group(2), reason  # the same owner on both: `<=` picks the first


async def test_the_value_of_an_int_subclass_instance_is_varied(project):
    reason = await found_on_a_boundary(project, "Size.label", "def label(self):\n"
                                       "    return f'{self / 1024:.1f}K' if self > 1024 else f'{int(self)}B'")
    assert reason.startswith("for label(1024) the original returns '1.0K', the rewrite returns '1024B'"), reason


async def test_an_observed_call_of_a_new_shape_is_varied_before_more_of_the_same(project):
    # Seven calls like "0.5" come first; the one "100%" call still gets its variations ("10%").
    reason = await found_on_a_boundary(project, "alpha", "def alpha(value):\n    if value.endswith('%'):\n"
                                       "        return float(value[:-1]) // 100\n    return float(value)")
    assert "the original returns 0.1, the rewrite returns 0.0" in reason, reason


def test_string_variants_empty_a_word_without_its_dash_and_start_at_a_separator():
    assert "${B:-}" in string_variants("${B:-x}")  # `-x` emptied whole gives `${B:}`, its word alone `${B:-}`
    assert "/../c" in string_variants("a/b/../c")  # where a leading `..` meets an absolute path


def test_floats_of_the_observed_magnitude_are_drawn_for_a_float_parameter():
    import ast

    drawn = draw(param_strategy(Param("seconds", ast.Name("float"), NO_DEFAULT), [125]), 200)
    assert any(60 < value < 251 and value % 1 >= 0.5 for value in drawn), drawn[:20]


async def test_a_string_as_long_as_another_argument_says_shows_a_moved_length_check(project):
    reason = await found_on_a_boundary(project, "clip", "def clip(text, width):\n    assert width >= len(ELLIPSIS)\n"
                                       "    return text if len(text) < width else text[:width - len(ELLIPSIS)] + ELLIPSIS")
    assert reason.startswith("for clip('abcdef', 6) the original returns 'abcdef', the rewrite returns 'abc...'"), reason
