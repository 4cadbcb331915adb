"""Mutants of a target's line range and the score the tests earn against them."""

from __future__ import annotations

import ast

from swarm_lsp.swarm.verify.mutation import generate_mutants, mutation_score, pick

SOURCE = '''import math


def clamp(value, low=0, high=10):
    """Docstrings are never mutated."""
    if value < low or not isinstance(value, int):
        return low
    if value >= high:
        return high
    return value + 1 * 2


def untouched(x):
    return x == 1
'''


def descriptions(mutants):
    return [m.description for m in mutants]


def test_each_operator_family_is_mutated_inside_the_range_only():
    mutants = generate_mutants(SOURCE, 4, 10)
    found = descriptions(mutants)
    for expected in (
        "line 4: `0` -> `1`", "line 4: `10` -> `11`",
        "line 6: `<` -> `<=`", "line 6: `or` -> `and`", "line 6: `not isinstance(value, int)` -> `isinstance(value, int)`",
        "line 7: `return low` -> `return None`", "line 8: `>=` -> `>`",
        "line 10: `+` -> `-`", "line 10: `*` -> `/`",
    ):
        assert expected in found
    assert all(not d.startswith(("line 13", "line 14", "line 5")) for d in found)  # docstring, other function
    for mutant in mutants:
        ast.parse(mutant.source)  # every mutant is valid Python
        assert mutant.source != SOURCE
        assert mutant.source.count("\n") == SOURCE.count("\n")


def test_booleans_strings_and_comparison_swaps():
    source = 'def f(a):\n    if a == "x" and a is not None:\n        return True\n    return False\n'
    found = descriptions(generate_mutants(source, 1, 4))
    assert "line 2: `==` -> `!=`" in found and "line 2: `is not` -> `is`" in found
    assert "line 2: `and` -> `or`" in found and 'line 2: `"x"` -> `"XX"`' in found
    assert "line 3: `True` -> `False`" in found and "line 4: `False` -> `True`" in found


def test_score_counts_killed_mutants_and_names_survivors():
    mutants = generate_mutants(SOURCE, 4, 10)
    survivors = {mutants[0].source}
    report = mutation_score(mutants, 100, lambda mutant: mutant.source in survivors)
    assert report.total == len(mutants) and report.killed == len(mutants) - 1
    assert report.survived == [mutants[0].description]
    assert report.score == report.killed / report.total


def test_pick_spreads_a_limited_budget_over_the_mutants():
    mutants = generate_mutants(SOURCE, 4, 10)
    chosen = pick(mutants, 3)
    assert len(chosen) == 3 and chosen[0] == mutants[0] and len({m.line for m in chosen}) > 1
    assert pick(mutants, 0) == []
    report = mutation_score(mutants, 3, lambda mutant: False)
    assert report.total == 3 and report.skipped == len(mutants) - 3 and report.score == 1.0
