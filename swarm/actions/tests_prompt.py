"""Prompts for the tests action: the writer's brief, its feedback, and what reviewers see.

The writer gets the target's numbered source, the exact import line, the tests already kept (by
name), the lines and branches still uncovered and why its last tests were dropped — CoverUp's
loop: show the model precisely what is missing.
"""

from __future__ import annotations

from swarm_lsp.swarm.actions.tests_target import TestTarget
from swarm_lsp.swarm.backends.base import Message
from swarm_lsp.swarm.verify.pytest_bench import SuiteState

SYSTEM = (
    "You write pytest tests for Python code. Reply with one ```python code block holding a test module: "
    "imports first, then test functions named test_<behaviour>. Each test checks one behaviour with plain "
    "assert statements against exact expected values that you are sure of; use pytest.raises for "
    "exceptions. Work out each expected value from the source line by line. Never copy or redefine the "
    "code under test: import it. No network, no sleeping, no files outside tmp_path."
)

REVIEW_FOCUSES = [
    "Does this test check a behaviour of the target that none of the kept tests checks (a different "
    "input class, edge case or outcome)? Approve only if it does.",
    "Would this test catch a real bug the kept tests would miss? Approve only if it would.",
]

FEEDBACK_MAX = 8
MISSING_MAX = 25


def writer_messages(target: TestTarget, suite: SuiteState, feedback: list[str],
                    survivors: list[str] | None = None) -> list[Message]:
    symbol = target.symbol
    what = {"class": "the class", "method": "the method", "function": "the function"}[symbol.kind]
    lines = [
        f"Write pytest tests for {what} `{symbol.qualname}` in {target.source_path}. Import it with:",
        "",
        target.target_import.statement,
        "",
        "Source:",
        "```python",
        target.source(),
        "```",
    ]
    if target.is_coroutine:
        lines += ["", "It is a coroutine function: call it with asyncio.run(...) inside plain (not async) test "
                      "functions; pytest here has no asyncio plugin."]
    if suite.tests:
        lines += ["", "These tests are already written and kept; do not repeat them: " + ", ".join(suite.tests) + "."]
        lines += _missing(target, suite)
    else:
        lines += ["", "Write 3 to 6 short tests that together run every line and both sides of every branch."]
    if survivors:
        lines += ["", "Each of these small changes to the code leaves every kept test passing. Write a test that "
                      "fails when the change is made (and passes on the code above):"]
        lines += [f"- {item}" for item in survivors]
    if feedback:
        lines += ["", "Your previous tests were not kept:"]
        lines += [f"- {item}" for item in feedback[:FEEDBACK_MAX]]
        lines += ["Fix the expected values from the source, or test something else."]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def _missing(target: TestTarget, suite: SuiteState) -> list[str]:
    out = []
    if suite.missing_lines:
        out += ["", "These lines are never run by the kept tests; write tests that run them:"]
        out += [f"    {target.line(n)}" for n in suite.missing_lines[:MISSING_MAX]]
    if suite.missing_branches:
        out += ["", "These branches are never taken; write tests that take them:"]
        out += [f"    {_branch(target, start, end)}" for start, end in suite.missing_branches[:MISSING_MAX]]
    out += ["", "Write 1 to 4 new tests aimed at exactly these."]
    return out


def _branch(target: TestTarget, start: int, end: int) -> str:
    """coverage.py's arc (start, end) in words; a negative end leaves the function."""
    destination = "to the end of the function" if end < 0 else f"on to `{target.line(end)}`"
    return f"`{target.line(start)}` never goes {destination}"


def review_material_for_test(target: TestTarget, suite: SuiteState, test_code: str) -> str:
    return "\n".join([
        f"Code under test: `{target.symbol.qualname}` in {target.source_path}",
        "```python", target.source(), "```",
        "Tests already kept: " + (", ".join(suite.tests) or "none"),
        "",
        "A new test that passes but runs no line or branch the kept tests do not already run:",
        "```python", test_code.strip(), "```",
    ])
