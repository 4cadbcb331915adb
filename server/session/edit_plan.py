"""What an action's result changes, as a plan every front end only renders: the CLI prints the diff
or writes it atomically, MCP returns the diff or writes it confined to its root, the language server
sends versioned `TextDocumentEdit`s / `CreateFile` (rebased onto newer editor text) and publishes
findings as diagnostics. No front end looks at which action produced it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarm_lsp.server.workspace import StaleFile, is_inside, write_if_unchanged, write_other_file
from swarm_lsp.swarm.types import ActionRequest, ActionResult, DocumentSnapshot, Edit


@dataclass(frozen=True)
class EditPlan:
    document: DocumentSnapshot  # the request's document as the action read it
    target: str  # the symbol the action resolved (rebasing needs it), "" for a whole file
    edits: tuple[Edit, ...]  # paths relative to the workspace
    # Findings about the document (an audit's) to show where they are; None: the action reports none.
    findings: tuple[dict[str, Any], ...] | None = None

    @classmethod
    def of(cls, request: ActionRequest, result: ActionResult) -> "EditPlan":
        accepted = result.status == "accepted"
        findings = result.evidence.get("findings")
        return cls(request.document, request.target, tuple(result.edits) if accepted else (),
                   tuple(findings) if accepted and isinstance(findings, list) else None)

    @property
    def diff(self) -> str:
        return "".join(edit.diff for edit in self.edits)

    def is_document(self, edit: Edit) -> bool:
        return edit.path == self.document.path

    def write(self, root: Path, *, inside: Path | None = None) -> list[Path]:
        """Write every edit to disk (CLI, MCP): atomically, each refused with StaleFile when its file
        changed since the action read it; files other than the document only inside `root`, and
        with `inside` (MCP's confinement root) nothing outside that. The written paths."""
        if inside is not None:
            for edit in self.edits:
                if not is_inside(root / edit.path, inside):
                    raise StaleFile(f"{edit.path} is outside {inside}; nothing was written")
        written = []
        for edit in self.edits:
            if self.is_document(edit):
                if self.document.version_kind == "editor":
                    raise StaleFile(f"{edit.path} is an editor buffer; the editor applies its edits")
                file = root / edit.path
                write_if_unchanged(file, self.document, edit.new_text)
                written.append(file)
            else:
                written.append(write_other_file(edit, root))
        return written
