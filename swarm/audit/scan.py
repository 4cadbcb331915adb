"""Audit many files: the deterministic pass per file, in parallel processes within a CPU budget,
with results cached by content. Each file goes through the one deterministic pass
(`pipeline.deterministic_pass`: bandit, the location and mitigation gates, the suppressions).

Python files get bandit here; other languages are listed in `skipped`. `swarm-lsp check --swarm`
runs the audit action per file instead (server/check_swarm.py), with the same `keep`.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Callable

from swarm_lsp.swarm.audit.cache import AuditCache, content_key
from swarm_lsp.swarm.audit.findings import Finding
from swarm_lsp.swarm.audit.pipeline import AuditPass, deterministic_pass
from swarm_lsp.swarm.audit.suppress import Suppressions
from swarm_lsp.swarm.verify.workspace_copy import list_files

log = logging.getLogger(__name__)

ANALYSERS = f"bandit-{version('bandit')}"
AUDITED_SUFFIXES = (".py",)
OTHER_SUFFIXES = (".js", ".jsx", ".ts", ".tsx", ".go", ".rs")


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    cached: int = 0
    skipped: list[str] = field(default_factory=list)  # files of languages without an auditor here
    unreadable: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # findings that failed the location gate
    mitigated: list[str] = field(default_factory=list)  # findings the mitigation gate dropped, and why
    suppressed: list[tuple[Finding, str]] = field(default_factory=list)  # `# nosec` or audit_skip, and which
    incomplete: list[str] = field(default_factory=list)  # files whose swarm audit did not finish, and why


def collect_files(root: Path, paths: list[Path]) -> tuple[list[str], list[str]]:
    """(Python files, files of other languages) under `paths`, relative to `root`, sorted."""
    found: set[str] = set()
    for path in paths:
        path = path.resolve()
        if path.is_dir():
            found.update((path / rel).relative_to(root).as_posix() for rel in list_files(path))
        else:
            found.add(path.relative_to(root).as_posix())
    audited = sorted(p for p in found if p.endswith(AUDITED_SUFFIXES))
    others = sorted(p for p in found if p.endswith(OTHER_SUFFIXES))
    return audited, others


def scan(root: Path, files: list[str], *, cache: AuditCache | None, jobs: int | None = None,
         on_file: Callable[[str], None] | None = None, suppressions: Suppressions = Suppressions()) -> ScanReport:
    report = ScanReport(files=len(files))
    texts: dict[str, str] = {}
    pending: list[str] = []
    for rel in files:
        try:
            texts[rel] = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.unreadable.append(f"{rel}: {exc}")
            continue
        cached = cache.get(content_key(texts[rel], ANALYSERS), rel) if cache else None
        if cached is None:
            pending.append(rel)
            continue
        report.cached += 1
        keep(report, cached, texts[rel], suppressions)
        if on_file:
            on_file(rel)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(pending)))
    for rel, result in _run(pending, texts, workers, on_file, suppressions):
        if cache:
            cache.put(content_key(texts[rel], ANALYSERS), result.analysed)
        record(report, result)
    report.findings.sort(key=lambda f: (f.path, f.start_line, f.start_column, f.rule_id))
    return report


def _run(pending: list[str], texts: dict[str, str], workers: int, on_file: Callable[[str], None] | None,
         suppressions: Suppressions) -> list[tuple[str, AuditPass]]:
    results = []
    if workers == 1:
        for rel in pending:
            results.append((rel, deterministic_pass(rel, texts[rel], suppressions)))
            if on_file:
                on_file(rel)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {rel: pool.submit(deterministic_pass, rel, texts[rel], suppressions) for rel in pending}
        for rel, future in futures.items():
            results.append((rel, future.result()))
            if on_file:
                on_file(rel)
    return results


def keep(report: ScanReport, findings: list[Finding], text: str, suppressions: Suppressions) -> None:
    """Add `findings` of `text` (cached, or the swarm's) to the report behind the gates and suppressions."""
    path = findings[0].path if findings else ""
    record(report, deterministic_pass(path, text, suppressions, findings=findings))


def record(report: ScanReport, result: AuditPass) -> None:
    report.findings += result.kept
    report.suppressed += result.suppressed
    for item in result.dropped:
        finding, reason = item["finding"], item["reason"]
        line = f"{finding['path']}:{finding['start_line']} {finding['rule_id']}: {reason}"
        if reason.startswith("mitigated"):
            report.mitigated.append(line)
        else:
            report.rejected.append(line)
            log.warning("dropped a finding that does not match the file: %s", line)
