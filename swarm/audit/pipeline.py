"""The audit's deterministic pass over one Python file, wired once: bandit's findings (or findings
given: bandit's from the cache, the swarm's), the location and mitigation gates, then the user's
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
    analysed: list[Finding]  # what entered the gates: bandit's findings as it reported them (what the cache keeps)


def deterministic_pass(label: str, text: str, suppressions: Suppressions | None = None,
                       cancel: CancelToken | None = None, *, findings: list[Finding] | None = None,
                       within: tuple[int, int] | None = None) -> AuditPass:
    """Audit the Python source `text`, reported against the workspace-relative `label`.

    `findings` replaces bandit's run (the gates still judge them); `within` keeps only the findings
    starting on those lines (inclusive), e.g. one symbol's. Without `suppressions` nothing is
    suppressed here (the audit action suppresses bandit's and the swarm's findings together).
    Raises `Cancelled` between findings once `cancel` is set."""
    if findings is None:
        from swarm_lsp.swarm.audit.bandit_pass import bandit_findings

        findings = bandit_findings(label, text)
    analysed = findings
    if within is not None:
        findings = [f for f in findings if within[0] <= f.start_line <= within[1]]
    if cancel is not None:
        cancel.raise_if_cancelled()
    source = Source(text)
    kept, dropped = gate_findings(findings, source, cancel)
    shown, hidden = suppressions.split(kept, source.lines) if suppressions is not None else (kept, [])
    return AuditPass(shown, hidden, dropped, analysed)
