"""Where a generated pytest module goes, and how it merges into an existing one (libcst).

`module_path_for_tests` detects the project's test layout (a `tests/` or `test/` folder, flat or mirroring
the package path, or tests beside the code) and naming (`test_<name>.py` or `<name>_test.py`).
`merge_test_modules` adds what a generated module brings to an existing one without touching the
user's code: missing imports after the last import, new tests and the helpers they use at the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst import matchers

from swarm_lsp.swarm.codemods.imports import (
    ImportKey,
    ModuleStatement,
    import_keys,
    insert_imports,
    is_import_line,
    missing_imports,
    with_blank_lines,
)

_TEST_ROOTS = ("tests", "test")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})
_MAX_SCANNED_DIRS = 2000


def _is_test_file(name: str) -> bool:
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def scan_test_files(root: Path) -> list[Path]:
    """Test files under `root`, skipping hidden, virtualenv and build folders; bounded."""
    found: list[Path] = []
    for scanned, (directory, dirnames, filenames) in enumerate(os.walk(root)):
        if scanned >= _MAX_SCANNED_DIRS:
            break
        dirnames[:] = sorted(
            name for name in dirnames if not name.startswith(".") and name not in _SKIPPED_DIRS
        )
        found.extend(Path(directory, name) for name in sorted(filenames) if _is_test_file(name))
    return found


def _test_file_name(module: str, test_files: list[Path]) -> str:
    suffixed = sum(1 for path in test_files if not path.name.startswith("test_"))
    return f"{module}_test.py" if suffixed > len(test_files) - suffixed else f"test_{module}.py"


def _has_tests_under(directory: Path, test_files: list[Path]) -> bool:
    return any(directory in path.parents for path in test_files)


def module_path_for_tests(workspace: Path, source: Path) -> Path:
    """The test module for `source` (a .py file inside `workspace`), following the project's layout."""
    root = workspace.resolve()
    resolved = (source if source.is_absolute() else workspace / source).resolve()
    try:
        relative = resolved.relative_to(root)
    except ValueError:
        raise ValueError(f"{source} is not inside the workspace {workspace}") from None
    package = list(relative.parent.parts)
    module = relative.stem
    if module == "__init__" and package:
        module = package.pop()
    if package and package[0] == "src":
        package = package[1:]

    test_files = scan_test_files(root)
    file_name = _test_file_name(module, test_files)
    tests_root = next(
        (root / name for name in _TEST_ROOTS
         if (root / name).is_dir() and (root / name).resolve().is_relative_to(root)),
        None,
    )
    if tests_root is not None:
        if package and _has_tests_under(tests_root / package[0], test_files):
            target = tests_root.joinpath(*package, file_name)
        elif len(package) > 1 and _has_tests_under(tests_root / package[1], test_files):
            target = tests_root.joinpath(*package[1:], file_name)
        else:
            target = tests_root / file_name
    elif any(
        any(not _is_test_file(sibling.name) for sibling in path.parent.glob("*.py"))
        for path in test_files
    ):
        target = resolved.parent / file_name
    else:
        target = root / "tests" / file_name
    return workspace / target.relative_to(root)


@dataclass(frozen=True)
class MergeResult:
    text: str
    added_tests: list[str]
    skipped_duplicates: list[str]
    added_imports: list[str]


def _parse(code: str, what: str) -> cst.Module:
    try:
        return cst.parse_module(code)
    except cst.ParserSyntaxError as error:
        raise ValueError(f"{what} does not parse: {error}") from error


def _defined_name(statement: cst.CSTNode) -> str | None:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return statement.name.value
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target = small.targets[0].target
            return target.value if isinstance(target, cst.Name) else None
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            return small.target.value
    return None


def _existing_names(module: cst.Module, import_keys: set[ImportKey]) -> set[str]:
    names = {name for statement in module.body if (name := _defined_name(statement))}
    for kind, dotted, name, asname in import_keys:
        names.add(asname or (dotted.split(".")[0] if kind == "import" else name))
    return names


def _is_test(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.FunctionDef):
        return statement.name.value.startswith("test")
    return isinstance(statement, cst.ClassDef) and statement.name.value.startswith("Test")


def _is_autouse_fixture(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.FunctionDef) and any(
        "autouse" in cst.Module(body=[]).code_for_node(decorator.decorator) for decorator in statement.decorators
    )


def _used_names(node: cst.CSTNode) -> set[str]:
    """Every identifier in `node`; parameter names count, so fixtures requested by tests do too."""
    return {name.value for name in matchers.findall(node, matchers.Name()) if isinstance(name, cst.Name)}


def _select_definitions(
    generated: cst.Module, existing_names: set[str]
) -> tuple[list[ModuleStatement], list[str], list[str]]:
    """Generated tests not already defined, plus the helpers/fixtures they use (transitively)."""
    definitions = [(name, statement) for statement in generated.body if (name := _defined_name(statement))]
    chosen: set[str] = set()
    skipped: list[str] = []
    needed: set[str] = set()
    for name, statement in definitions:
        if not _is_test(statement):
            continue
        if name in existing_names or name in chosen:
            skipped.append(name)
        else:
            chosen.add(name)
            needed |= _used_names(statement)
    helpers = {name: statement for name, statement in definitions if not _is_test(statement)}
    if chosen:
        needed |= {name for name, statement in helpers.items() if _is_autouse_fixture(statement)}
    pending = sorted(needed & helpers.keys())
    while pending:
        name = pending.pop()
        if name in chosen or name in skipped:
            continue
        if name in existing_names:
            skipped.append(name)
            continue
        chosen.add(name)
        pending.extend(sorted((_used_names(helpers[name]) & helpers.keys()) - chosen))
    added: list[ModuleStatement] = []
    added_tests: list[str] = []
    for name, statement in definitions:
        if name in chosen:
            chosen.discard(name)  # the first definition of a name wins
            added.append(statement)
            if _is_test(statement):
                added_tests.append(name)
    return added, added_tests, skipped


def merge_test_modules(existing: str, generated: str) -> MergeResult:
    """Merge a generated pytest module into an existing one; never changes or replaces user code."""
    generated_module = _parse(generated, "generated test module")
    existing_module = _parse(existing, "existing test module")
    seen = import_keys(existing_module)
    existing_names = _existing_names(existing_module, seen)

    new_imports = [
        reduced for statement in generated_module.body
        if is_import_line(statement) and (reduced := missing_imports(statement, seen))
    ]
    added, added_tests, skipped = _select_definitions(generated_module, existing_names)
    added_imports = [cst.Module(body=[]).code_for_node(line).strip() for line in new_imports]

    if not existing.strip():
        text = generated if generated.endswith("\n") or not generated else generated + "\n"
        return MergeResult(text, added_tests, skipped, added_imports)

    body = list(existing_module.body)
    insert_imports(body, new_imports)
    for statement in added:
        body.append(with_blank_lines(statement, 2 if body or existing_module.header else 0))
    changes: dict[str, object] = {"body": body}
    if added:
        changes["has_trailing_newline"] = True
        if all(line.comment is None for line in existing_module.footer):
            changes["footer"] = []
    text = existing_module.with_changes(**changes).code
    _parse(text, "merged test module")
    return MergeResult(text, added_tests, skipped, added_imports)
