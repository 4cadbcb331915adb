"""An audit finding (issue 7): where, which CWE, how bad, how sure, what, and who found it.

Lines are 1-based; columns are 1-based character columns with an exclusive end, as SARIF writes
them. `snippet` is the text of the finding's lines, so a reader can check the finding against the
file: `located` is the gate every finding passes before it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm_lsp.swarm.types import JsonMixin

SEVERITIES = ("low", "medium", "high")

# The CWE classes a reviewer of web and CLI code cares about (issue 7).
CWE_CLASSES = {
    89: "SQL injection", 78: "OS command injection", 90: "LDAP injection", 643: "XPath injection",
    22: "path traversal", 918: "server-side request forgery", 79: "cross-site scripting",
    502: "deserialization of untrusted data", 328: "weak hash", 327: "broken or risky cipher",
    338: "insecure randomness for security", 798: "hard-coded credentials", 611: "XML external entities",
    601: "open redirect", 501: "trust boundary violation",
}


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Finding(JsonMixin):
    path: str  # relative to the workspace, posix
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    cwe: int  # e.g. 89; 0 when the rule has no CWE
    severity: str  # low | medium | high
    confidence: str  # low | medium | high
    message: str
    snippet: str
    source: str  # "bandit" or "swarm"
    rule_id: str  # e.g. "B602" for bandit, "swarm-cwe-89" for the swarm
    rule_name: str = ""

    @property
    def cwe_label(self) -> str:
        return f"CWE-{self.cwe}" if self.cwe else "CWE-unknown"

    def at_least(self, severity: str) -> bool:
        return severity_rank(self.severity) >= severity_rank(severity)


def lines_of(text: str, start_line: int, end_line: int) -> str:
    """The text of 1-based lines start..end (inclusive), without the final newline."""
    return "\n".join(text.splitlines()[start_line - 1 : end_line])


def located(finding: Finding, text: str) -> str | None:
    """None when the finding's range exists in `text` and its snippet matches; else why not."""
    lines = text.splitlines()
    if not 1 <= finding.start_line <= finding.end_line <= len(lines):
        return f"lines {finding.start_line}-{finding.end_line} are outside the file ({len(lines)} lines)"
    if finding.start_column < 1 or finding.start_column > len(lines[finding.start_line - 1]) + 1:
        return f"column {finding.start_column} is outside line {finding.start_line}"
    if lines_of(text, finding.start_line, finding.end_line) != finding.snippet:
        return "the snippet does not match the file at that range"
    return None
