import libcst as cst
import pytest

from swarm_lsp.swarm.codemods.py_docstring import (
    apply_docstring,
    body_indent,
    find_definition,
    python_doc_facts,
    strip_docstring,
)

DOC = '"""Do it."""'


@pytest.mark.parametrize(
    ("qualname", "before", "after"),
    [
        pytest.param(
            "f",
            "import os\n\n\ndef f(x):\n    return x\n",
            'import os\n\n\ndef f(x):\n    """Do it."""\n    return x\n',
            id="plain-function",
        ),
        pytest.param(
            "f",
            "def f(x): return x  # identity\n",
            'def f(x):\n    """Do it."""\n    return x  # identity\n',
            id="one-liner-body",
        ),
        pytest.param(
            "fetch",
            "async def fetch(url):\n    return await get(url)\n",
            'async def fetch(url):\n    """Do it."""\n    return await get(url)\n',
            id="async-def",
        ),
        pytest.param(
            "f",
            "@cache\n@trace(level=2)\ndef f(x):\n    return x\n",
            '@cache\n@trace(level=2)\ndef f(x):\n    """Do it."""\n    return x\n',
            id="decorated",
        ),
        pytest.param(
            "A.m",
            "class A:\n    x = 1\n\n    def m(self):\n        return self.x\n",
            'class A:\n    x = 1\n\n    def m(self):\n        """Do it."""\n        return self.x\n',
            id="method",
        ),
        pytest.param(
            "Outer.Inner.m",
            "class Outer:\n    class Inner:\n        def m(self): pass\n",
            'class Outer:\n    class Inner:\n        def m(self):\n            """Do it."""\n            pass\n',
            id="nested-class-method",
        ),
        pytest.param(
            "A",
            "class A(Base):\n    def __init__(self, x):\n        self.x = x\n",
            'class A(Base):\n    """Do it."""\n    def __init__(self, x):\n        self.x = x\n',
            id="class",
        ),
        pytest.param(
            "f",
            '# lead\ndef f(x):\n    # about the docstring\n    """Old\n    text."""  # note\n    return x\n',
            '# lead\ndef f(x):\n    # about the docstring\n    """Do it."""  # note\n    return x\n',
            id="replace-existing",
        ),
        pytest.param(
            "f",
            "def f(x):  # header comment\n    # explain the trick\n    return x\n",
            'def f(x):  # header comment\n    """Do it."""\n    # explain the trick\n    return x\n',
            id="body-starts-with-comment",
        ),
        pytest.param(
            "T.m",
            "class T:\n\tdef m(self):\n\t\treturn 1\n",
            'class T:\n\tdef m(self):\n\t\t"""Do it."""\n\t\treturn 1\n',
            id="tabs",
        ),
        pytest.param(
            "outer.inner",
            "def outer():\n    def inner():\n        return 1\n    return inner\n",
            'def outer():\n    def inner():\n        """Do it."""\n        return 1\n    return inner\n',
            id="nested-function",
        ),
        pytest.param(
            "E",
            "class E(Exception): pass\n",
            'class E(Exception):\n    """Do it."""\n    pass\n',
            id="one-liner-class",
        ),
    ],
)
def test_apply_docstring(qualname, before, after):
    assert apply_docstring(before, qualname, DOC) == after


def test_apply_multiline_literal_keeps_crlf_newlines():
    before = "def f(x):\r\n    return x\r\n"
    after = apply_docstring(before, "f", '"""Do it.\n\n    More.\n    """')
    assert after == 'def f(x):\r\n    """Do it.\r\n\r\n    More.\r\n    """\r\n    return x\r\n'


def test_apply_rejects_invalid_input():
    with pytest.raises(LookupError, match="`g`"):
        apply_docstring("def f(): pass\n", "g", DOC)
    with pytest.raises(ValueError):
        apply_docstring("def f(): pass\n", "f", 'b"""bytes"""')
    with pytest.raises(ValueError):
        apply_docstring("def f(:\n", "f", DOC)


def test_strip_docstring_moves_comments_and_normalises_one_liners():
    text = 'def f(x):\n    # keep me\n    """Doc."""\n    return x\n'
    assert strip_docstring(text, "f") == "def f(x):\n    # keep me\n    return x\n"
    assert strip_docstring("def f(x): return x\n", "f") == "def f(x):\n    return x\n"
    assert strip_docstring('def f():\n    """Only."""\n', "f") == "def f():\n    pass\n"


def test_find_definition_uses_line_for_redefinitions():
    text = "if X:\n    def f():\n        return 1\nelse:\n    def f():\n        return 2\n"
    module = cst.parse_module(text)
    first = find_definition(module, "f", line=2)
    last = find_definition(module, "f")
    assert module.code_for_node(first).strip().endswith("return 1")
    assert module.code_for_node(last).strip().endswith("return 2")


def test_body_indent():
    text = "class A:\n  def m(self):\n      return 1\n  def n(self): return 2\n"
    assert body_indent(text, "A.m") == "      "
    assert body_indent(text, "A.n") == "    "  # the one-liner gets the module's default indent on top
    assert body_indent(text, "A") == "  "


class TestFacts:
    def test_method_drops_self_and_classmethod_drops_cls(self):
        text = (
            "class A:\n"
            "    def m(self, a, /, b, *args, c, d=1, **kwargs): ...\n"
            "    @classmethod\n    def make(cls, x): ...\n"
            "    @staticmethod\n    def util(x, y): ...\n"
        )
        method = python_doc_facts(text, "A.m")
        assert method.kind == "method"
        assert method.params == ("a", "b", "args", "c", "d", "kwargs")
        assert python_doc_facts(text, "A.make").params == ("x",)
        assert python_doc_facts(text, "A.util").params == ("x", "y")

    def test_class_uses_init_params_and_signature(self):
        text = "class A(Base):\n    def __init__(\n        self, x, *, y=2\n    ):\n        self.x = x\n"
        facts = python_doc_facts(text, "A")
        assert facts.kind == "class"
        assert facts.params == ("x", "y")
        assert facts.signature == "class A(Base):\n    def __init__(\n        self, x, *, y=2\n    ):"
        assert not facts.returns_value

    def test_returns_ignore_none_and_nested_scopes(self):
        text = (
            "def f(x):\n"
            "    def helper():\n        return 1\n"
            "    g = lambda: 2\n"
            "    class C:\n        def m(self):\n            return 3\n"
            "    if x:\n        return None\n"
            "    return\n"
        )
        assert python_doc_facts(text, "f").returns_value is False
        assert python_doc_facts("def f(x):\n    if x:\n        return x\n", "f").returns_value is True

    def test_yield_counts_as_returning_a_value(self):
        assert python_doc_facts("def gen(n):\n    yield from range(n)\n", "gen").returns_value is True

    def test_raises(self):
        text = (
            "def f(x):\n"
            "    def nested():\n        raise RuntimeError('not ours')\n"
            "    try:\n        x()\n"
            "    except KeyError as err:\n        raise err\n"
            "    except OSError:\n        raise\n"
            "    if x:\n        raise ValueError('bad')\n"
            "    if not x:\n        raise ValueError\n"
            "    raise errors.BadInput(x) from None\n"
        )
        assert python_doc_facts(text, "f").raises == ("ValueError", "errors.BadInput")

    def test_existing_doc_signature_and_name(self):
        text = 'class A:\n    @property\n    async def size(\n        self,\n    ) -> int:\n        """\n        Size.\n\n          Detail.\n        """\n        return 1\n'
        facts = python_doc_facts(text, "A.size")
        assert facts.name == "size"
        assert facts.existing_doc == "Size.\n\n  Detail."
        assert facts.signature == "async def size(\n    self,\n) -> int:"  # relative to the def line
        assert facts.language == "python"

    def test_missing_qualname(self):
        with pytest.raises(LookupError, match="defined: A, A.m"):
            python_doc_facts("class A:\n    def m(self): pass\n", "A.x")
