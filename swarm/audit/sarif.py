"""SARIF 2.1.0 for audit findings, in the shape GitHub code scanning reads.

One rule per rule id, tagged `security` and `external/cwe/cwe-<n>`; each result carries the CWE
(`CWE-<n>`), severity, confidence and source in its properties, its region with 1-based lines and
columns and the snippet, and a partial fingerprint so code scanning can track it across commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from swarm_lsp.swarm.audit.findings import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}  # GitHub's severity buckets


def _rule(finding: Finding) -> dict[str, Any]:
    tags = ["security"] + ([f"external/cwe/cwe-{finding.cwe}"] if finding.cwe else [])
    return {
        "id": finding.rule_id,
        "name": finding.rule_name or finding.rule_id,
        "shortDescription": {"text": f"{finding.cwe_label}: {finding.rule_name or finding.rule_id}"},
        "helpUri": f"https://cwe.mitre.org/data/definitions/{finding.cwe}.html" if finding.cwe else None,
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[finding.severity]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    fingerprint = hashlib.sha256(f"{finding.rule_id}:{finding.path}:{finding.snippet.strip()}".encode()).hexdigest()
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                "region": {
                    "startLine": finding.start_line, "startColumn": finding.start_column,
                    "endLine": finding.end_line, "endColumn": finding.end_column,
                    "snippet": {"text": finding.snippet},
                },
            }
        }],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint[:32]},
        "properties": {"cwe": finding.cwe_label, "severity": finding.severity,
                       "confidence": finding.confidence, "source": finding.source},
    }


def to_sarif(findings: list[Finding], *, tool_version: str, root_uri: str,
             suppressed: Sequence[tuple[Finding, str]] = ()) -> dict[str, Any]:
    """A SARIF log with one run; `root_uri` (a file:// URI ending in /) anchors relative paths.
    Suppressed findings are results with a `suppressions` entry (inSource for `# nosec`, external
    for the configuration), which code scanning shows as dismissed rather than open."""
    rules: dict[str, int] = {}
    rule_objects: list[dict[str, Any]] = []
    results = []
    for finding, why in [*((f, None) for f in findings), *suppressed]:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = len(rule_objects)
            rule_objects.append(_strip_none(_rule(finding)))
        result = _result(finding, rules[finding.rule_id])
        if why is not None:
            result["suppressions"] = [{"kind": "inSource" if why == "# nosec" else "external",
                                       "status": "accepted", "justification": why}]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "swarm-lsp", "version": tool_version, "rules": rule_objects}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
            "results": results,
        }],
    }


def _strip_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}
