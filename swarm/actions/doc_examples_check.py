"""Executable documentation: the writer proposes calls, the sandbox supplies their results.

An example in the docstring is a call the writer proposed and the sandbox ran: its result is the
one the real code printed, so it is true by construction, and the rendered docstring is then run
as a doctest in a fresh process (results that change between processes are dropped). A raise
claim comes with a call that must raise that exception; one that returns or raises another type
shows the stated condition is false, and the candidate goes back to the writer with what happened.
Nothing here runs in the user's tree: the runner works on a sandbox copy (verify/doc_examples.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods.content import DocContent
from swarm_lsp.swarm.types import GateResult
from swarm_lsp.swarm.verify.doc_examples import CallOutcome, ExampleRunner

GATE_NAME = "raises_executed"
MAX_EXAMPLES = 2  # shown in the docstring
MAX_OBSERVED = 4  # calls run before writing
MAX_EXAMPLE_LINE = 72  # a longer call or result is dropped, not wrapped (a doctest line cannot wrap)


@dataclass(frozen=True)
class CallTarget:
    """How a call names the documented symbol: `name(` for a function, `.name(` for a method."""

    name: str
    method: bool

    def named_in(self, call: str) -> bool:
        pattern = rf"\.{re.escape(self.name)}\s*\(" if self.method else rf"(?<![\w.]){re.escape(self.name)}\s*\("
        return re.search(pattern, call) is not None


@dataclass
class ExampleCheck:
    gate: GateResult
    examples: list[tuple[str, str]] = field(default_factory=list)  # (call, result) that ran
    raised: dict[str, str] = field(default_factory=dict)  # exception -> what executing its call showed
    notes: list[str] = field(default_factory=list)  # examples dropped, and why
    skipped: str = ""  # why nothing could run ("" when the calls ran)
    ran: int = 0
    outcomes: list[CallOutcome] = field(default_factory=list)  # of the example calls


def _shown(outcome: CallOutcome) -> str:
    if outcome.status == "returned":
        return f"returned {outcome.value_repr[:80]}"
    if outcome.status == "raised":
        return f"raised {outcome.exception}" + (f": {outcome.message[:80]}" if outcome.message else "")
    return outcome.status + (f" ({outcome.message[:80]})" if outcome.message else "")


@dataclass
class Observation:
    ran: int = 0
    skipped: str = ""  # why nothing could run ("" when the calls ran)
    outcomes: list[CallOutcome] = field(default_factory=list)  # the calls that returned or raised

    @property
    def lines(self) -> list[str]:
        """"`f(1)` returned 2" per call, for the writer and the reviewers."""
        return [f"`{o.call}` {_shown(o)}" for o in self.outcomes]


def observe_calls(runner: ExampleRunner, calls: list[str], target: CallTarget, raises: tuple[str, ...],
                  cancel: CancelToken | None) -> Observation:
    """What the code does on the calls proposed before writing: the values they returned, and the
    exceptions the function itself raises (`raises`). A call that fails otherwise (an AttributeError
    from a string passed for a mapping) shows a misuse, not the function, and would mislead the
    writer: it is left out, as are calls that do not name the target, do not parse or time out."""
    calls = [call for call in dict.fromkeys(calls) if target.named_in(call)][:MAX_OBSERVED]
    if not calls:
        return Observation()
    run = runner.evaluate(calls, cancel)
    if not run.importable:
        return Observation(skipped=run.reason or "the module did not import")
    shown = [o for o in run.outcomes
             if o.status == "returned" or o.status == "raised" and any(o.raises(name) for name in raises)]
    return Observation(ran=len(run.outcomes), outcomes=shown)


def check_examples(runner: ExampleRunner, content: DocContent, target: CallTarget,
                   cancel: CancelToken | None) -> ExampleCheck:
    """Run the candidate's example calls and raise calls; the verified examples and raise claims."""
    examples = [call for call in content.example_calls if target.named_in(call)]
    notes = [f"the example `{call}` does not call `{target.name}`: dropped"
             for call in content.example_calls if call not in examples]
    raise_calls = {name: call for name, call in content.raise_calls.items() if name in content.raises}
    calls = examples + [call for call in raise_calls.values() if target.named_in(call)]
    if not calls:
        return ExampleCheck(GateResult(GATE_NAME, True), notes=notes)
    run = runner.evaluate(calls, cancel)
    if not run.importable:
        return ExampleCheck(GateResult(GATE_NAME, True), notes=notes, skipped=run.reason or "the module did not import")
    outcomes = {o.call: o for o in run.outcomes}
    check = ExampleCheck(GateResult(GATE_NAME, True), notes=notes, ran=len(run.outcomes),
                         outcomes=[o for o in run.outcomes if o.call in examples])
    for call in examples:
        outcome = outcomes.get(call)
        if outcome is None:
            continue
        fits = len(call) + 4 <= MAX_EXAMPLE_LINE and len(outcome.value_repr) <= MAX_EXAMPLE_LINE
        if outcome.doctest_safe and fits and len(check.examples) < MAX_EXAMPLES:
            check.examples.append((call, outcome.value_repr))
        elif outcome.status != "returned" or not outcome.doctest_safe:
            check.notes.append(f"the example `{call}` {_shown(outcome)}: an example must return a value that "
                               "prints the same way every time; dropped")
    reasons = []
    for name, call in raise_calls.items():
        outcome = outcomes.get(call)
        if outcome is None:
            check.notes.append(f"the call given for {name} (`{call}`) does not call `{target.name}`")
        elif outcome.raises(name):
            check.raised[name] = f"`{call}` raised {outcome.exception}"
        elif outcome.status in ("returned", "raised"):
            reasons.append(f"`{call}`, given as a call that raises {name}, {_shown(outcome)}: the condition stated "
                           f"for {name} is not what the code does; state the real condition and a call that meets it")
        else:
            check.notes.append(f"the call given for {name} (`{call}`) could not be run: {_shown(outcome)}")
    check.gate = GateResult(GATE_NAME, not reasons, reasons)
    return check


def confirm_doctest(runner: ExampleRunner, docstring: str, examples: list[tuple[str, str]],
                    cancel: CancelToken | None) -> tuple[list[tuple[str, str]], list[str]]:
    """The examples that pass as a doctest of `docstring` in a fresh process, and notes on the rest."""
    if not examples:
        return [], []
    report = runner.run_doctest(docstring, cancel)
    if report.error:
        return [], [f"the examples did not run as a doctest ({report.error}): dropped"]
    failing = {failure["source"].strip() for failure in report.failures}
    kept = [(call, result) for call, result in examples if call not in failing]
    notes = [f"the example `{call}` gave a different result in a fresh process: dropped"
             for call, _ in examples if call in failing]
    return kept, notes
