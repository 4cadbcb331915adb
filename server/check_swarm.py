"""`swarm-lsp check --swarm`: every file through the audit action (bandit plus the swarm auditors,
behind the same gates as `swarm-lsp run audit`), one file at a time (the models use every core).

Results are cached by file content and everything that decides them: the tiers and reviewer
settings, and the audit's own code (prompts, gates), hashed. A file whose audit did not complete
(every candidate unusable, cancelled) is reported as incomplete and not cached, so the next run
retries it; completed files stay cached, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Callable

from swarm_lsp.server.config import Config
from swarm_lsp.server.interrupt import run_interruptible
from swarm_lsp.server.session.session import Session
from swarm_lsp.swarm.audit.cache import AuditCache, content_key
from swarm_lsp.swarm.audit.findings import Finding
from swarm_lsp.swarm.audit.scan import ANALYSERS, ScanReport, keep
from swarm_lsp.swarm.audit.suppress import Suppressions
from swarm_lsp.swarm.cancel import CancelToken

log = logging.getLogger(__name__)

AUDIT_MODULES = ("actions/audit.py", "actions/audit_prompt.py", "audit/mitigations.py", "audit/anchors.py",
                 "audit/sinks.py", "audit/python_flow.py", "audit/bandit_pass.py", "audit/flow_index.py",
                 "audit/pipeline.py")


def swarm_identity(config: Config) -> str:
    """What decides a swarm audit's findings besides the file: settings and the audit's code."""
    root = Path(__file__).resolve().parent.parent / "swarm"
    code = hashlib.sha256(b"".join((root / name).read_bytes() for name in AUDIT_MODULES)).hexdigest()[:16]
    settings = {key: getattr(config, key) for key in ("tiers", "candidates", "reviewers", "reviewer_tiers",
                                                      "escalation", "max_tokens", "temperature", "seed")}
    return f"{ANALYSERS}+swarm-{code}-{json.dumps(settings, sort_keys=True, default=list)}"


async def swarm_scan(root: Path, files: list[str], config: Config, *, cache: AuditCache | None,
                     suppressions: Suppressions, on_file: Callable[[str], None] | None = None,
                     cancel: CancelToken | None = None) -> ScanReport:
    report = ScanReport(files=len(files))
    identity = swarm_identity(config)
    session = Session(root, config)
    overrides: dict[str, list[str]] = {"audit_skip": []}  # suppressions apply after the cache
    for index, rel in enumerate(files):
        if cancel is not None and cancel.cancelled:
            report.incomplete.extend(f"{name}: not audited (interrupted)" for name in files[index:])
            break
        try:
            snapshot = session.read(root / rel)
        except (OSError, UnicodeDecodeError) as exc:
            report.unreadable.append(f"{rel}: {exc}")
            continue
        text = snapshot.text
        key = content_key(text, identity)
        findings = cache.get(key, rel) if cache else None
        if findings is None:
            outcome = await session.run("audit", snapshot, "", overrides=overrides, cancel=cancel)
            result = outcome.result
            findings = [Finding(**item) for item in result.evidence.get("findings", [])]
            audited, total = result.evidence.get("functions_audited", 0), result.evidence.get("functions", 0)
            if result.status == "accepted" and audited >= total:
                if cache:
                    cache.put(key, findings)
            else:
                report.incomplete.append(f"{rel}: {audited} of {total} function(s) audited ({result.status}"
                                         + (f": {result.message}" if result.message else "") + ")")
        else:
            report.cached += 1
        keep(report, findings, text, suppressions)
        if on_file:
            on_file(rel)
    report.findings.sort(key=lambda f: (f.path, f.start_line, f.start_column, f.rule_id))
    return report


def run_swarm_scan(root: Path, files: list[str], config: Config, **kwargs) -> ScanReport:
    """The scan with Ctrl-C wired to its cancel token: the file being audited ends as cancelled and
    the report lists it and every file after it as incomplete."""
    return run_interruptible(lambda cancel: swarm_scan(root, files, config, cancel=cancel, **kwargs))
