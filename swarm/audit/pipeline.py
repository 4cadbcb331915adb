"""The audit's deterministic pass over one Python file, wired once: bandit's findings and the flow
pass's (`taint`: request input reaching an operation unmitigated), or findings given (the first
pass's from the cache, the swarm's), the location and mitigation gates, then the user's
suppressions. `swarm-lsp check`, the editor's audit diagnostics, the audit action's first pass and
the refactor's re-check of a fixed finding all run this function.

The text is split into lines and parsed at most once, whatever the number of findings
(`flow_index.Source`), so the pass is linear in the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from swarm_lsp.swarm.audit.findings import Finding
from swarm_lsp.swarm.audit.flow_index import Source
from swarm_lsp.swarm.audit.mitigations import gate_findings

if TYPE_CHECKING:
    from swarm_lsp.swarm.audit.suppress import Suppressions
    from swarm_lsp.swarm.cancel import CancelToken


@dataclass
class AuditPass:
    kept: list[Finding]  # to report
    suppressed: list[tuple[Finding, str]]  # kept by the gates, silenced by `# nosec` or audit_skip: why
    dropped: list[dict[str, Any]]  # {"finding": ..., "reason": "not located: ..." or "mitigated: ..."}
    analysed: list[Finding]  # what entered the gates: bandit's and the flow pass's findings (what the cache keeps)


def deterministic_pass(label: str, text: str, suppressions: Suppressions | None = None,
                       cancel: CancelToken | None = None, *, findings: list[Finding] | None = None,
                       within: tuple[int, int] | None = None) -> AuditPass:
    """Audit the Python source `text`, reported against the workspace-relative `label`.

    `findings` replaces bandit's run and the flow pass (the gates still judge them); `within` keeps only the findings
    starting on those lines (inclusive), e.g. one symbol's. Without `suppressions` nothing is
    suppressed here (the audit action suppresses bandit's and the swarm's findings together).
    Raises `Cancelled` between findings once `cancel` is set."""
    source = Source(text)
    if findings is None:
        findings = first_pass_findings(label, source)
    analysed = findings
    if within is not None:
        findings = [f for f in findings if within[0] <= f.start_line <= within[1]]
    if cancel is not None:
        cancel.raise_if_cancelled()
    kept, dropped = gate_findings(findings, source, cancel)
    shown, hidden = suppressions.split(kept, source.lines) if suppressions is not None else (kept, [])
    return AuditPass(shown, hidden, dropped, analysed)


def first_pass_findings(label: str, source: Source) -> list[Finding]:
    """Bandit's findings, then the flow pass's on lines where bandit reports nothing of their class."""
    from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
    from swarm_lsp.swarm.audit.taint import flow_findings

    found = bandit_findings(label, source.text)
    seen = {(f.start_line, f.cwe) for f in found}
    return found + [f for f in flow_findings(label, source) if (f.start_line, f.cwe) not in seen]
