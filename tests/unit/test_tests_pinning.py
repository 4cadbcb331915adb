"""How a pinning test states the original's outcome on the input where a surviving mutant differs
(the end-to-end loop, with real sandboxed runs, is in test_tests_action.py)."""

from __future__ import annotations

import ast

from swarm_lsp.swarm.actions.tests_pinning import pinning_test
from swarm_lsp.swarm.verify.differential import Divergence
from swarm_lsp.swarm.verify.mutation import Mutant

MUTANT = Mutant(3, "line 3: `<` -> `<=`", "")


def divergence(call_source, pin):
    return Divergence("boundary", "(...)", "returns ...", "returns ...", call_source, pin)


def test_a_returned_literal_is_asserted_equal_and_a_singleton_by_identity():
    equal = pinning_test("test_f_pins_line_3", "f", divergence("('a', width=2)", "returns ['a', 'b']"), MUTANT)
    assert equal == ("def test_f_pins_line_3():\n    # line 3: `<` -> `<=` changes this outcome\n"
                     "    assert f('a', width=2) == ['a', 'b']\n")
    none = pinning_test("test_f", "f", divergence("(None,)", "returns None"), MUTANT)
    assert none.endswith("    assert f(None,) is None\n")
    ast.parse(equal + none)


def test_a_builtin_exception_is_expected_with_pytest_raises():
    test = pinning_test("test_f", "f", divergence("('',)", "raises ValueError"), MUTANT)
    assert test.endswith("    with pytest.raises(ValueError):\n        f('',)\n")
    ast.parse(test)


def test_nothing_is_written_without_literal_arguments_or_a_statable_outcome():
    assert pinning_test("test_f", "f", divergence(None, "returns 1"), MUTANT) is None
    assert pinning_test("test_f", "f", divergence("(1,)", None), MUTANT) is None
