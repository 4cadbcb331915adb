"""Findings the user has chosen not to see: an inline `# nosec` comment, or a rule or CWE skipped
in the configuration (`audit_skip`), and files excluded from `check` (`audit_exclude`).

`# nosec` follows bandit's convention, for the swarm's findings too: bare, it silences every
finding on its line; `# nosec B602, CWE-78` silences only the listed rule ids and CWE labels.
Bandit applies its own comment before swarm-lsp sees its findings.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from swarm_lsp.swarm.audit.findings import Finding

NOSEC = re.compile(r"#\s*nosec\b:?\s*(?P<ids>[\w\-, ]*)", re.IGNORECASE)
RULE_OR_CWE = re.compile(r"^(B\d{3}|(swarm|flow)-cwe-\d+|CWE-\d+)$", re.IGNORECASE)


def parse_rule(text: str) -> str:
    """A rule id (B602, swarm-cwe-89, flow-cwe-22) or CWE label (CWE-89), normalised; ValueError otherwise."""
    text = text.strip()
    if not RULE_OR_CWE.match(text):
        raise ValueError(f"{text!r} is not a rule id (B602, swarm-cwe-89, flow-cwe-22) or a CWE label (CWE-89)")
    return text.upper() if not text.lower().startswith(("swarm", "flow")) else text.lower()


def _names(finding: Finding) -> set[str]:
    return {parse_rule(finding.rule_id), finding.cwe_label}


@dataclass(frozen=True)
class Suppressions:
    skip: frozenset[str] = frozenset()  # normalised rule ids and CWE labels
    exclude: tuple[str, ...] = ()  # glob patterns of workspace-relative paths
    nosec: bool = True  # honour `# nosec` comments

    @classmethod
    def from_options(cls, skip: list[str] | tuple[str, ...] = (), exclude: list[str] | tuple[str, ...] = ()) -> "Suppressions":
        return cls(frozenset(parse_rule(rule) for rule in skip), tuple(exclude))

    def excluded(self, path: str) -> bool:
        """True when the workspace-relative posix `path` matches an exclude pattern (a pattern
        naming a folder, `tests/` or `tests/**`, covers everything below it)."""
        for pattern in self.exclude:
            pattern = pattern.rstrip("/")
            if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + "/*") or (
                    path.startswith(pattern.removesuffix("/**") + "/")):
                return True
        return False

    def why(self, finding: Finding, text: str | list[str]) -> str | None:
        """Why `finding` is suppressed ("skipped in the configuration" or "# nosec"), or None;
        `text` is the file's text or its lines."""
        if _names(finding) & self.skip:
            return "skipped in the configuration"
        lines = text.splitlines() if isinstance(text, str) else text
        if self.nosec and 1 <= finding.start_line <= len(lines):
            match = NOSEC.search(lines[finding.start_line - 1])
            if match:
                listed = {parse_rule(t) for t in re.split(r"[,\s]+", match["ids"]) if t and RULE_OR_CWE.match(t)}
                if not listed or _names(finding) & listed:
                    return "# nosec"
        return None

    def split(self, findings: list[Finding], text: str | list[str]) -> tuple[list[Finding], list[tuple[Finding, str]]]:
        """(the findings to report, the suppressed ones with why)."""
        lines = text.splitlines() if isinstance(text, str) else text
        shown, hidden = [], []
        for finding in findings:
            reason = self.why(finding, lines)
            if reason is None:
                shown.append(finding)
            else:
                hidden.append((finding, reason))
        return shown, hidden
