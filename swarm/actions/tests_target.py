"""What the tests action needs to know about its target before any model runs.

The symbol (a Python function, method or class), its line range for coverage, how a test
imports it, and where its test module lives (with that module's current text, if any).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from swarm_lsp.swarm.actions.base import ActionInputError, document_symbols, target_symbol
from swarm_lsp.swarm.codemods.pytest_candidate import TargetImport
from swarm_lsp.swarm.codemods.pytest_module import module_path_for_tests
from swarm_lsp.swarm.types import ActionRequest, Symbol

MAX_SOURCE_LINES = 200  # the target's source shown to the writer is cut beyond this


@dataclass(frozen=True)
class TestTarget:
    __test__ = False  # not a pytest test class despite the name

    workspace: Path
    source_path: str  # relative to the workspace, posix
    source_text: str  # the document as the user sees it (possibly unsaved)
    symbol: Symbol
    first_line: int  # 1-based, inclusive, decorators included
    last_line: int
    target_import: TargetImport
    import_roots: tuple[str, ...]  # folders (relative) that must be on sys.path: "." and maybe "src"
    test_path: str  # relative to the workspace, posix
    test_text: str  # the existing test module, "" when it does not exist yet
    test_version: int  # its mtime_ns, 0 when it does not exist

    @property
    def test_exists(self) -> bool:
        return self.test_version != 0

    def source(self) -> str:
        """The target's source (without line numbers: small models copy them into their code)."""
        lines = self.source_text.splitlines()[self.first_line - 1 : self.last_line]
        shown = lines[:MAX_SOURCE_LINES]
        if len(lines) > len(shown):
            shown.append(f"# ... ({len(lines) - len(shown)} more lines)")
        return "\n".join(shown)

    @property
    def is_coroutine(self) -> bool:
        """An `async def` function or method (its first `def` line, after any decorators)."""
        if self.symbol.kind == "class":
            return False
        match = re.search(r"^\s*(async\s+)?def\s", self.source(), re.MULTILINE)
        return bool(match and match.group(1))

    def line(self, number: int) -> str:
        """The stripped source of a 1-based line; "" outside the file."""
        source = self.source_text.splitlines()
        return source[number - 1].strip() if 0 < number <= len(source) else ""


def resolve_test_target(request: ActionRequest) -> TestTarget:
    document = request.document
    language, symbols = document_symbols(document)
    if language != "python":
        raise ActionInputError(f"{document.path}: the tests action writes pytest tests for Python code only")
    symbol = target_symbol(document, symbols, request.target)
    workspace = Path(os.path.realpath(request.workspace))
    source = Path(document.path)
    source = Path(os.path.realpath(source if source.is_absolute() else workspace / source))
    try:
        relative = source.relative_to(workspace)
    except ValueError:
        raise ActionInputError(f"{document.path} is not inside the workspace {workspace}") from None
    module, roots = module_name(relative)
    target_import = TargetImport(module, _import_name(symbol, symbols))
    test_file = module_path_for_tests(workspace, source)
    test_text, test_version = _read_existing(test_file)
    return TestTarget(
        workspace=workspace,
        source_path=relative.as_posix(),
        source_text=document.text,
        symbol=symbol,
        first_line=symbol.span.start_line + 1,
        last_line=symbol.span.end_line + 1,
        target_import=target_import,
        import_roots=roots,
        test_path=test_file.relative_to(workspace).as_posix(),
        test_text=test_text,
        test_version=test_version,
    )


def module_name(relative: Path) -> tuple[str, tuple[str, ...]]:
    """The dotted module of a workspace-relative .py path, and the import roots it needs."""
    parts = list(relative.with_suffix("").parts)
    roots: tuple[str, ...] = (".",)
    if parts and parts[0] == "src" and len(parts) > 1:
        parts, roots = parts[1:], (".", "src")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        raise ActionInputError(f"{relative} cannot be imported as a Python module (name: {'.'.join(parts)!r})")
    return ".".join(parts), roots


def _import_name(symbol: Symbol, symbols: list[Symbol]) -> str:
    """The top-level name a test imports: the function, or the class holding the method."""
    top = symbol.qualname.split(".")[0]
    if symbol.qualname != top:
        outer = next((s for s in symbols if s.qualname == top), None)
        if outer is not None and outer.kind != "class":
            raise ActionInputError(
                f"{symbol.qualname} is nested inside the function {top}: tests can only reach it through "
                f"{top}; target {top} instead"
            )
    return top


def _read_existing(path: Path) -> tuple[str, int]:
    try:
        with open(path, "rb") as handle:
            version = os.fstat(handle.fileno()).st_mtime_ns
            return handle.read().decode("utf-8"), version
    except FileNotFoundError:
        return "", 0
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionInputError(f"the test module {path} cannot be read: {exc}") from exc
