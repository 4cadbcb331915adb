"""`swarm-lsp check PATH...`: audit files for CI — text, JSON or SARIF 2.1.0, exit code by severity.

By default the deterministic pass (bandit behind the location and mitigation gates) over Python
files; `--swarm` runs the whole audit action per file (bandit plus the swarm auditors, all five
languages), as `swarm-lsp run audit` does. Findings silenced by `# nosec` or `audit_skip` are left
out of text and JSON and marked suppressed in SARIF; `audit_exclude` files are not read.

Exit codes: 0 when no finding reaches `--fail-on`, 1 when one does, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from swarm_lsp.server.cli_options import UsageError, add_config_flags, config_from_args, version as _version
from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm.audit.findings import SEVERITIES, Finding

if TYPE_CHECKING:  # the scanner imports bandit: loaded only when `check` runs
    from swarm_lsp.server.config import Config
    from swarm_lsp.swarm.audit.cache import AuditCache
    from swarm_lsp.swarm.audit.scan import ScanReport
    from swarm_lsp.swarm.audit.suppress import Suppressions

FORMATS = ("text", "json", "sarif")


def add_check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check", help="audit files for CI (text, JSON or SARIF); exit 1 when a finding reaches --fail-on",
        description="Audit Python files with bandit (as a library) behind swarm-lsp's location and mitigation "
                    "gates, or with --swarm the whole audit action (bandit plus the swarm auditors, Python, "
                    "JavaScript/TypeScript, Go and Rust), and report findings with their CWE. Results are cached "
                    "by file content, so an unchanged tree re-checks in seconds. `# nosec [RULE,...]` on a line "
                    "silences its findings; audit_skip and audit_exclude in swarm-lsp.toml (or --skip, --exclude) "
                    "silence rules and paths.")
    check.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (folders respect .gitignore)")
    check.add_argument("--format", default="text", choices=FORMATS, help="output format (default: text)")
    check.add_argument("--fail-on", default="low", choices=SEVERITIES,
                       help="exit 1 when a finding has at least this severity (default: low)")
    check.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--jobs", type=int, metavar="N", help="files audited in parallel (default: CPU count)")
    check.add_argument("--no-cache", action="store_true", help="ignore and do not update the result cache")
    check.add_argument("--swarm", action="store_true", help="also run the swarm auditors (the configured tiers; "
                       "slow on CPU: one model call per function, cached by content)")
    check.add_argument("--skip", action="append", default=[], metavar="RULE", help="never report this rule id "
                       "(B101, swarm-cwe-89) or CWE label (CWE-703); repeatable, added to audit_skip")
    check.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="do not audit workspace "
                       "paths matching GLOB (tests/**, bench/); repeatable, added to audit_exclude")
    check.add_argument("--workspace", metavar="DIR", help="root that paths in the report are relative to "
                       "(default: the nearest folder above the first PATH with pyproject.toml, swarm-lsp.toml or .git)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_config_flags(check, workspace=False)


def check_command(args: argparse.Namespace) -> int:
    from swarm_lsp.swarm.audit.cache import AuditCache
    from swarm_lsp.swarm.audit.scan import collect_files
    from swarm_lsp.swarm.audit.suppress import Suppressions

    paths = [Path(p) for p in args.paths]
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    root = Path(args.workspace).resolve() if args.workspace else find_workspace(paths[0])
    config = config_from_args(args, root)
    try:
        suppressions = Suppressions.from_options(skip=[*config.audit_skip, *args.skip],
                                                 exclude=[*config.audit_exclude, *args.exclude])
    except ValueError as exc:
        raise UsageError(f"--skip: {exc}") from exc
    try:
        files, others = collect_files(root, paths)
    except ValueError as exc:
        raise UsageError(f"every PATH must be inside the workspace {root}: {exc}") from exc
    files = [f for f in files if not suppressions.excluded(f)]
    others = [f for f in others if not suppressions.excluded(f)]
    if args.swarm:
        files, others = sorted(files + others), []
    console = Console(stderr=True)
    cache = None if args.no_cache else AuditCache()
    try:
        report = _scan_with_progress(root, files, cache, args, console, config, suppressions)
    finally:
        if cache:
            cache.close()
    report.skipped = others
    rendered = _render(report, args.format, root)
    if args.output:
        Path(args.output).write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    _summary(report, console, args.fail_on)
    failing = [f for f in report.findings if f.at_least(args.fail_on)]
    return EXIT_REJECTED if failing else EXIT_OK


def _scan_with_progress(root: Path, files: list[str], cache: "AuditCache | None", args: argparse.Namespace,
                        console: Console, config: "Config", suppressions: "Suppressions") -> "ScanReport":
    from swarm_lsp.swarm.audit.scan import scan

    def run(on_file: Callable[[str], None] | None) -> "ScanReport":
        if args.swarm:
            from swarm_lsp.server.check_swarm import run_swarm_scan

            return run_swarm_scan(root, files, config, cache=cache, suppressions=suppressions, on_file=on_file)
        return scan(root, files, cache=cache, jobs=args.jobs, on_file=on_file, suppressions=suppressions)

    if args.no_progress or not console.is_terminal:
        return run(None)
    columns = (TextColumn("swarm-lsp check"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=len(files))
        return run(lambda rel: progress.update(task, advance=1, description=rel))


def _render(report: "ScanReport", fmt: str, root: Path) -> str:
    from swarm_lsp.swarm.audit.sarif import to_sarif

    if fmt == "sarif":
        log = to_sarif(report.findings, tool_version=_version(), root_uri=root.as_uri() + "/",
                       suppressed=report.suppressed)
        return json.dumps(log, indent=2) + "\n"
    if fmt == "json":
        return json.dumps({"findings": [f.to_dict() for f in report.findings], "summary": _counts(report)}, indent=2) + "\n"
    return "".join(_text_line(f) + "\n" for f in report.findings)


def _text_line(finding: Finding) -> str:
    return (f"{finding.path}:{finding.start_line}:{finding.start_column}: {finding.severity} "
            f"{finding.cwe_label} [{finding.source} {finding.rule_id}] {finding.message}")


def _counts(report: "ScanReport") -> dict:
    return {
        "files": report.files, "cached": report.cached, "findings": len(report.findings),
        "by_severity": {s: sum(f.severity == s for f in report.findings) for s in SEVERITIES},
        "skipped_files": report.skipped, "unreadable_files": report.unreadable, "rejected_findings": report.rejected,
        "mitigated_findings": report.mitigated, "incomplete_files": report.incomplete,
        "suppressed": [{"finding": f.to_dict(), "reason": why} for f, why in report.suppressed],
    }


def _summary(report: "ScanReport", console: Console, fail_on: str) -> None:
    counts = _counts(report)["by_severity"]
    console.print(
        f"swarm-lsp check: {report.files} file(s) ({report.cached} from the cache), "
        f"{len(report.findings)} finding(s): {counts['high']} high, {counts['medium']} medium, {counts['low']} low; "
        f"{len(report.suppressed)} suppressed, {len(report.mitigated)} dropped as mitigated; "
        f"failing at {fail_on} and above", highlight=False)
    if report.skipped:
        console.print(f"swarm-lsp check: {len(report.skipped)} JavaScript/TypeScript/Go/Rust file(s) not audited: "
                      "their auditors are the swarm's (--swarm)", highlight=False)
    for problem in report.incomplete:
        console.print(f"swarm-lsp check: incomplete: {problem}", style="yellow", highlight=False)
    for problem in report.unreadable:
        console.print(f"swarm-lsp check: unreadable: {problem}", style="yellow", highlight=False)
