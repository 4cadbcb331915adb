import ast
import inspect

import pytest

from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.docstyle import detect_style, parse_docstring_sections, render_docstring

GOOGLE_SRC = '''
def a(x):
    """Do a.

    Args:
        x: The x.

    Returns:
        Something.
    """
'''
NUMPY_SRC = '''
def b(x):
    """Do b.

    Parameters
    ----------
    x
        The x.
    """

def c(y):
    """Do c.

    Returns
    -------
    int
        The y.
    """
'''
REST_SRC = '''
class K:
    def m(self, x):
        """Do m.

        :param x: The x.
        :returns: Something.
        """
'''


def facts(**overrides) -> DocFacts:
    values = dict(
        name="f", kind="function", language="python", params=("x", "args", "kwargs"),
        returns_value=True, raises=("ValueError", "errors.BadInput"),
        signature="def f(x: int, *args, **kwargs) -> int:",
    )
    values.update(overrides)
    return DocFacts(**values)


CONTENT = DocContent(
    summary="Scale x.",
    description="Multiplies x by the factor.",
    params={"x": "The value.", "*args": "Extra factors.", "kwargs": "Options.", "ghost": "Not real."},
    returns="The scaled value.",
    raises={"ValueError": "If x is negative.", "BadInput": "If x is not a number."},
)


class TestDetectStyle:
    def test_google(self):
        assert detect_style([GOOGLE_SRC]) == "google"

    def test_numpy_majority_across_files(self):
        assert detect_style([GOOGLE_SRC, NUMPY_SRC]) == "numpy"

    def test_rest(self):
        assert detect_style([REST_SRC]) == "rest"

    def test_nothing_or_unparsable_defaults_to_google(self):
        assert detect_style([]) == "google"
        assert detect_style(["def f(:\n", 'def g():\n    """Plain."""\n']) == "google"

    def test_tie_defaults_to_google(self):
        assert detect_style([NUMPY_SRC.split("def c")[0], REST_SRC]) == "google"


class TestRender:
    def test_google(self):
        assert render_docstring(CONTENT, facts(), "google", "    ") == (
            '"""Scale x.\n'
            "\n"
            "    Multiplies x by the factor.\n"
            "\n"
            "    Args:\n"
            "        x: The value.\n"
            "        *args: Extra factors.\n"
            "        **kwargs: Options.\n"
            "\n"
            "    Returns:\n"
            "        The scaled value.\n"
            "\n"
            "    Raises:\n"
            "        ValueError: If x is negative.\n"
            "        errors.BadInput: If x is not a number.\n"
            '    """'
        )

    def test_numpy_uses_return_annotation(self):
        assert render_docstring(CONTENT, facts(), "numpy", "") == (
            '"""Scale x.\n\nMultiplies x by the factor.\n\n'
            "Parameters\n----------\nx\n    The value.\n*args\n    Extra factors.\n**kwargs\n    Options.\n\n"
            "Returns\n-------\nint\n    The scaled value.\n\n"
            "Raises\n------\nValueError\n    If x is negative.\nerrors.BadInput\n    If x is not a number.\n"
            '"""'
        )

    def test_rest(self):
        assert render_docstring(CONTENT, facts(), "rest", "\t") == (
            '"""Scale x.\n\n\tMultiplies x by the factor.\n\n'
            "\t:param x: The value.\n\t:param args: Extra factors.\n\t:param kwargs: Options.\n"
            "\t:returns: The scaled value.\n"
            "\t:raises ValueError: If x is negative.\n\t:raises errors.BadInput: If x is not a number.\n"
            '\t"""'
        )

    def test_summary_only_is_one_line(self):
        assert render_docstring(DocContent("Scale x."), facts(), "google", "    ") == '"""Scale x."""'

    def test_no_returns_section_without_return_value(self):
        text = render_docstring(CONTENT, facts(returns_value=False), "google", "")
        assert "Returns" not in text

    def test_long_lines_wrap_within_88_columns(self):
        content = DocContent("Scale x.", description="word " * 60, params={"x": "long " * 40})
        literal = render_docstring(content, facts(), "google", "        ")
        lines = ("        " + literal).splitlines()
        assert max(len(line) for line in lines) <= 88
        assert lines[-1] == '        """'
        assert "            long long" in literal  # continuation indented under the param

    def test_triple_quotes_and_backslashes_stay_inside_the_literal(self):
        content = DocContent('Match \\d+ in """text""".', description="Ends with a backslash \\")
        literal = render_docstring(content, facts(), "google", "    ")
        assert literal.startswith('r"""')
        value = ast.literal_eval(literal)
        assert "\\d+" in value and value.rstrip().endswith("\\")

    def test_triple_quotes_without_backslash_are_exact(self):
        literal = render_docstring(DocContent('Say """hi"""'), facts(), "google", "")
        assert ast.literal_eval(literal) == 'Say """hi"""'

    def test_summary_ending_in_quote_closes_on_its_own_line(self):
        literal = render_docstring(DocContent('Return "x"'), facts(), "google", "    ")
        assert literal == '"""Return "x"\n    """'
        assert ast.literal_eval(literal).strip() == 'Return "x"'

    def test_unknown_style(self):
        with pytest.raises(ValueError):
            render_docstring(CONTENT, facts(), "epytext", "")


@pytest.mark.parametrize("style", ["google", "numpy", "rest"])
def test_render_parses_back(style):
    literal = render_docstring(CONTENT, facts(), style, "    ")
    sections = parse_docstring_sections(inspect.cleandoc(ast.literal_eval(literal)), style)
    assert sections.summary == "Scale x."
    assert sections.params == ("x", "args", "kwargs")  # "ghost" was dropped
    assert sections.has_returns
    assert sections.raises == ("ValueError", "errors.BadInput")


def test_parse_falls_back_to_auto_detection():
    sections = parse_docstring_sections("Do it.\n\n:param x: The x.\n:raises KeyError: Never.", "google")
    assert sections.params == ("x",)
    assert sections.raises == ("KeyError",)


def test_parse_yields_counts_as_returns():
    sections = parse_docstring_sections("Count.\n\nYields:\n    Numbers.", "google")
    assert sections.has_returns
