"""Audit findings as LSP diagnostics, and a quick fix that asks the swarm to repair one.

`swarm.audit {uri}` (and, with `audit_on_save`, a debounced save) runs the audit's deterministic
pass over the open document's current text and publishes one diagnostic per finding: source
`swarm-lsp`, code `CWE-<n>` with a link to the CWE entry, severity mapped from the finding's.
A swarm diagnostic inside a function gets a quick fix: a refactor of that function whose
instruction names the finding (its gates keep the behaviour the tests pin down).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from swarm_lsp.server.lsp.documents import StoredDocument
from swarm_lsp.swarm.analysis.enclosing import symbol_at
from swarm_lsp.swarm.audit.findings import REMEDIATIONS
from swarm_lsp.swarm.errors import InputError
from swarm_lsp.swarm.offload import in_worker_process_async

if TYPE_CHECKING:
    from swarm_lsp.server.lsp.server import SwarmLanguageServer
    from swarm_lsp.swarm.audit.findings import Finding

log = logging.getLogger(__name__)

AUDIT_COMMAND = "swarm.audit"
SOURCE = "swarm-lsp"
SAVE_DEBOUNCE_S = 0.5
SEVERITY = {"high": types.DiagnosticSeverity.Error, "medium": types.DiagnosticSeverity.Warning,
            "low": types.DiagnosticSeverity.Information}


class NotAuditable(InputError):
    pass


def finding_diagnostic(server: "SwarmLanguageServer", document: StoredDocument, finding: "Finding") -> types.Diagnostic:
    # Python's AST columns (bandit's) are UTF-8 byte offsets within the line.
    store = server.store
    start = store.byte_to_position(document, store.position_to_byte(document, finding.start_line - 1, 0)
                                   + finding.start_column - 1)
    end = store.byte_to_position(document, store.position_to_byte(document, finding.end_line - 1, 0)
                                 + finding.end_column - 1)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=f"{finding.message} [{finding.source} {finding.rule_id}, confidence {finding.confidence}]",
        severity=SEVERITY[finding.severity],
        code=finding.cwe_label,
        code_description=types.CodeDescription(href=f"https://cwe.mitre.org/data/definitions/{finding.cwe}.html")
        if finding.cwe else None,
        source=SOURCE,
        data={"rule": finding.rule_id, "cwe": finding.cwe, "severity": finding.severity},
    )


async def publish_audit(server: "SwarmLanguageServer", uri: str) -> dict[str, Any]:
    """Audit the open document and publish its diagnostics; a summary for the command's caller."""
    from swarm_lsp.swarm.audit.pipeline import deterministic_pass
    from swarm_lsp.swarm.audit.suppress import Suppressions

    document = server.store.get(uri)
    if document is None:
        raise NotAuditable(f"{uri} is not open")
    if document.language != "python":
        raise NotAuditable(f"{uri}: the audit covers Python files for now")
    path = Path(document.path) if document.path else Path(uri)
    label = path.relative_to(server.root).as_posix() if path.is_relative_to(server.root) else path.name
    text = document.text
    suppressions = Suppressions.from_options(skip=server.config.audit_skip)
    # In the analysis process, not a thread: bandit and the parser would hold the GIL, stalling the loop.
    findings = (await in_worker_process_async(deterministic_pass, label, text, suppressions)).kept
    current = server.store.get(uri)
    if current is not document:  # edited meanwhile: positions would be wrong; the next audit publishes
        return {"uri": uri, "findings": len(findings), "published": False, "reason": "the document changed"}
    # Hundreds of conversions: on a thread, which yields the GIL to the loop between them.
    diagnostics = await asyncio.to_thread(lambda: [finding_diagnostic(server, document, f) for f in findings])
    await server.protocol.notify_serialised_off_loop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, types.PublishDiagnosticsParams(
        uri=uri, diagnostics=diagnostics, version=document.version))
    return {"uri": uri, "findings": len(findings), "published": True,
            "by_severity": {s: sum(f.severity == s for f in findings) for s in SEVERITY}}


def publish_findings(server: "SwarmLanguageServer", uri: str, findings: list[dict[str, Any]]) -> bool:
    """Publish an audit action's findings (ActionResult evidence) for the open document `uri`;
    False when the document is closed or changed since (positions would be wrong)."""
    from swarm_lsp.swarm.audit.findings import Finding, located

    document = server.store.get(uri)
    if document is None:
        return False
    parsed = [Finding(**item) for item in findings]
    if any(located(f, document.text) is not None for f in parsed):
        return False
    diagnostics = [finding_diagnostic(server, document, f) for f in parsed]
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version))
    return True


class SaveAuditor:
    """Debounced audit on save: a burst of saves of one document runs one audit."""

    def __init__(self, server: "SwarmLanguageServer") -> None:
        self.server = server
        self.pending: dict[str, asyncio.Task] = {}

    def saved(self, uri: str) -> None:
        if not self.server.config.audit_on_save:
            return
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending[uri] = asyncio.ensure_future(self._later(uri))

    async def _later(self, uri: str) -> None:
        try:
            await asyncio.sleep(SAVE_DEBOUNCE_S)
            await publish_audit(self.server, uri)
        except asyncio.CancelledError:
            pass
        except NotAuditable as exc:
            log.debug("audit on save skipped: %s", exc)
        except Exception:  # noqa: BLE001 - an audit failure must not take the server down
            log.exception("audit on save failed for %s", uri)
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                self.pending.pop(uri, None)


def quick_fixes(server: "SwarmLanguageServer", params: types.CodeActionParams) -> list[types.CodeAction]:
    """A refactor aimed at each swarm-lsp diagnostic inside a function or method."""
    from swarm_lsp.server.lsp.code_actions import RUN_COMMAND

    document = server.store.get(params.text_document.uri)
    if document is None or document.tree is None or document.language is None:
        return []
    actions = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE:
            continue
        start = diagnostic.range.start
        offset = server.store.position_to_byte(document, start.line, start.character)
        symbol = symbol_at(document.tree, document.language, offset)
        if symbol is None:
            continue
        cwe = diagnostic.data.get("cwe") if isinstance(diagnostic.data, dict) else None
        remedy = f" The usual fix: {REMEDIATIONS[cwe]}." if cwe in REMEDIATIONS else ""
        instruction = (f"Fix the security issue {diagnostic.code} reported at line {start.line + 1}: "
                       f"{diagnostic.message.split(' [')[0].rstrip('.')}.{remedy} Keep everything else the same.")
        title = f"Fix {diagnostic.code} in {symbol.qualname} (swarm refactor)"
        arguments = {"action": "refactor", "uri": document.uri, "version": document.version,
                     "symbol": symbol.qualname, "line": symbol.start_line,
                     "options": {"instruction": instruction, "fixes": _finding_of(diagnostic)}}
        actions.append(types.CodeAction(
            title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            command=types.Command(title=title, command=RUN_COMMAND, arguments=[arguments]),
        ))
    return actions


def _finding_of(diagnostic: types.Diagnostic) -> dict[str, Any] | None:
    """The `fixes` option of a refactor aimed at this diagnostic: the refactor's "fixed" gate
    re-checks the rewrite for it."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    if not isinstance(data.get("rule"), str) or not isinstance(data.get("cwe"), int):
        return None
    return {"rule": data["rule"], "cwe": data["cwe"], "line": diagnostic.range.start.line + 1}
