"""Bandit, used as a library, as the audit's deterministic first pass (issue 7, DESIGN.md §5).

Bandit reads files, so the text (possibly an unsaved editor buffer) is written to a private
temporary file first; nothing else is executed. Findings carry bandit's own CWE, severity and
confidence; the snippet is the text of the lines bandit reports.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

# bandit loads its report formatters through stevedore when imported, which logs an ERROR for an
# optional one (sarif) whose dependency is not installed; swarm-lsp writes its own SARIF.
logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)

from bandit.core import config as bandit_config  # noqa: E402
from bandit.core import manager as bandit_manager  # noqa: E402

from swarm_lsp.swarm.audit.findings import Finding  # noqa: E402

log = logging.getLogger(__name__)

# Bandit tags some rules with a broad CWE; code scanning groups results by CWE, so these rules get
# the specific weakness they detect (bandit's own id for each is in the comment).
REFINED_CWE = {
    "B303": 328, "B324": 328,  # md5/sha1: 327 broken crypto -> 328 weak hash
    "B311": 338,  # random: 330 insufficient randomness -> 338 weak PRNG
    "B506": 502,  # yaml.load: 20 input validation -> 502 deserialization of untrusted data
    **{f"B{n}": 611 for n in (*range(313, 321), *range(405, 411))},  # XML parsers: 20 -> 611 XXE
}


def bandit_findings(path: str, text: str) -> list[Finding]:
    """Bandit's findings for the Python source `text`, reported against `path`."""
    with tempfile.TemporaryDirectory(prefix="swarm-bandit-") as folder:
        file = Path(folder) / "module.py"
        file.write_text(text, encoding="utf-8")
        manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", quiet=True)
        manager.discover_files([str(file)])
        manager.run_tests()
        issues = manager.get_issue_list()
        for skipped, reason in manager.skipped:
            log.warning("bandit skipped %s: %s", path, reason)
    findings = []
    lines = text.splitlines()
    for issue in issues:
        start = min(issue.linerange) if issue.linerange else issue.lineno
        end = max(issue.linerange) if issue.linerange else issue.lineno
        end = min(end, len(lines))
        start = min(start, end)
        last_line = lines[end - 1] if lines else ""
        end_column = (issue.end_col_offset + 1) if end == issue.lineno and issue.end_col_offset else len(last_line) + 1
        findings.append(Finding(
            path=path, start_line=start, start_column=(issue.col_offset or 0) + 1 if start == issue.lineno else 1,
            end_line=end, end_column=max(1, end_column),
            cwe=REFINED_CWE.get(issue.test_id, int(issue.cwe.id) if issue.cwe else 0),
            severity=str(issue.severity).lower(), confidence=str(issue.confidence).lower(),
            message=issue.text, snippet="\n".join(lines[start - 1 : end]), source="bandit",
            rule_id=issue.test_id, rule_name=issue.test,
        ))
    return findings
