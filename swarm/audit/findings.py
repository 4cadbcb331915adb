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
# Weaknesses that need no untrusted input: the primitive itself is the flaw.
PRIMITIVE_CWES = frozenset({328, 327, 338, 798})
# The standard fix of each class, told to a writer asked to fix a finding (the mitigations the
# gate in `mitigations` recognises).
REMEDIATIONS = {
    89: "pass values as query parameters instead of formatting them into the SQL string",
    78: "run the command as an argument list (for example shlex.split of the text) without shell=True",
    90: "escape every value put into the LDAP filter (ldap3.utils.conv.escape_filter_chars)",
    643: "pass values as XPath variables instead of formatting them into the expression",
    22: "resolve the path with os.path.realpath and refuse it unless it stays inside its base folder",
    918: "parse the URL and refuse hosts that are not in an allow-list before the request",
    79: "escape every value interpolated into the markup (html.escape or markupsafe.escape)",
    502: "parse the data with a data-only loader (json, or yaml.safe_load) instead of pickle or yaml.load",
    328: "use hashlib.sha256 (or hashlib.scrypt/pbkdf2_hmac for passwords) instead of MD5 or SHA-1",
    327: "use an authenticated cipher (AESGCM) instead of a broken cipher or ECB mode",
    338: "use the secrets module instead of random",
    798: "read the secret from the environment (os.environ) instead of writing it in the code",
    611: "parse XML with defusedxml, or with entity resolution turned off",
    601: "redirect only to relative paths or to hosts in an allow-list",
    501: "check the value against the allowed values before storing it in the session",
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
    input: str = ""  # swarm findings: the untrusted input the auditor says reaches the operation

    @property
    def cwe_label(self) -> str:
        return f"CWE-{self.cwe}" if self.cwe else "CWE-unknown"

    def at_least(self, severity: str) -> bool:
        return severity_rank(self.severity) >= severity_rank(severity)


def located(finding: Finding, text: str | list[str]) -> str | None:
    """None when the finding's range exists in `text` (or its lines) and its snippet matches; else why not."""
    lines = text.splitlines() if isinstance(text, str) else text
    if not 1 <= finding.start_line <= finding.end_line <= len(lines):
        return f"lines {finding.start_line}-{finding.end_line} are outside the file ({len(lines)} lines)"
    if finding.start_column < 1 or finding.start_column > len(lines[finding.start_line - 1]) + 1:
        return f"column {finding.start_column} is outside line {finding.start_line}"
    if "\n".join(lines[finding.start_line - 1 : finding.end_line]) != finding.snippet:
        return "the snippet does not match the file at that range"
    return None
