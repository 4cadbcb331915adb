"""The claims a function's own definition settles: stated defaults, None returned, an error
message returned by a function that raises. Each wrong claim is caught; what the code cannot
settle (a default in prose, None said of an input) passes."""

from __future__ import annotations

from swarm_lsp.swarm.codemods.content import DocContent
from swarm_lsp.swarm.gates.doc_claims import doc_claims_gate

SLUGIFY = '''def slugify(text, max_len=40, separator="-"):
    if not text or not text.strip():
        raise ValueError("cannot slugify empty text")
    return text[:max_len]
'''
LOOKUP = '''class Table:
    def get(self, key, default=None):
        for name, value in self.rows:
            if name == key:
                return value
'''


def check(source: str, qualname: str, **content) -> list[str]:
    gate = doc_claims_gate(source, qualname, DocContent(summary="Do it.", **content))
    assert gate.passed == (not gate.reasons)
    return gate.reasons


def test_a_stated_default_must_be_the_parameters_default():
    assert check(SLUGIFY, "slugify", params={"max_len": "Longest slug. Defaults to 50."}) == [
        "`max_len` defaults to 40, not 50."]
    assert check(SLUGIFY, "slugify", params={"separator": "Joins words (default: '_')."}) == [
        "`separator` defaults to '-', not '_'."]
    assert check(SLUGIFY, "slugify", params={"text": "The text. Defaults to None."}) == [
        "`text` has no default, but its description says it defaults to None."]
    assert check(SLUGIFY, "slugify", params={"max_len": "Longest slug. Defaults to 40.",
                                             "separator": 'Joins words. Defaults to "-".'}) == []


def test_a_default_in_prose_or_a_computed_one_is_not_settled_here():
    assert check(SLUGIFY, "slugify", params={"max_len": "Longest slug. Defaults to the screen width."}) == []
    computed = "def f(when=time.time()):\n    return when\n"
    assert check(computed, "f", params={"when": "A time. Defaults to 0."}) == []


def test_none_returned_needs_a_path_that_returns_none():
    assert check(SLUGIFY, "slugify", returns="The slug, or None if the text is empty.") == [
        "`slugify` never returns None (every path returns a value or raises), but the description of the "
        "return value mentions None."]
    assert check(LOOKUP, "Table.get", returns="The value, or None when the key is missing.") == []  # falls off the end
    explicit = "def f(x):\n    if x:\n        return 1\n    return None\n"
    assert check(explicit, "f", returns="1, else None.") == []


def test_none_said_of_an_input_is_not_a_claim_about_the_result():
    assert check(SLUGIFY, "slugify", returns="The slug; an empty string for None.") == []
    assert check(SLUGIFY, "slugify", returns="True when text is None.") == []


def test_an_error_message_returned_by_a_function_that_raises_is_false():
    assert check(SLUGIFY, "slugify", returns="The slug, or an error message if the input is invalid.")[-1] == (
        "`slugify` raises on bad input and returns no message, but the description of the return value says it "
        "returns an error message.")
    reports = 'def f(x):\n    if not x:\n        return "error: empty"\n    if x < 0:\n        raise ValueError\n    return "ok"\n'
    assert check(reports, "f", returns="'ok', or an error message for empty input.") == []


def test_a_target_the_check_cannot_find_passes_to_the_other_gates():
    assert check("def (:\n", "f", returns="None") == []
    assert check(SLUGIFY, "nosuch", returns="None") == []


RAISING = '''class OptionError(ValueError):
    pass


def _check(value, allowed):
    if value not in allowed:
        raise OptionError(value)


class Options:
    def pick(self, value):
        self._validate(value)
        return value

    def _validate(self, value):
        _check(value, ("a", "b"))


def parse(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        raise


def convert(text):
    return int(text)
'''


def test_a_named_exception_must_be_one_the_function_can_be_seen_to_raise():
    # through a method of its class and a function of its module, and by the base of the class raised
    assert check(RAISING, "Options.pick", raises={"OptionError": "If value is not allowed."}) == []
    assert check(RAISING, "Options.pick", raises={"ValueError": "If value is not allowed."}) == []
    assert check(RAISING, "parse", raises={"ValueError": "If text is not a number."}) == []  # re-raised
    assert check(RAISING, "Options.pick", raises={"KeyError": "If value is missing."}) == [
        "`pick` is not seen to raise `KeyError` (not in its body, nor in a function of this module it calls): "
        "name only the exceptions it raises."]


def test_what_a_builtin_raises_is_not_seen():
    assert check(RAISING, "convert", raises={"ValueError": "If text is not a number."}) != []
