"""Python docstring codemod (libcst): find a definition, read its facts, insert or strip a docstring.

Definitions are addressed by dotted qualified name through classes and functions (`Outer.method`,
`outer.inner`); `if`/`try`/`with` blocks do not add a component. When a name is defined more than
once, the definition containing `line` wins, else the last one (the binding in effect at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .content import DocFacts

Definition = cst.FunctionDef | cst.ClassDef


@dataclass(frozen=True)
class _Found:
    node: Definition
    in_class: bool  # directly in a class body: a method
    indent: str  # absolute indentation of the `def`/`class` line


# Only these nodes can contain a definition; not descending into expressions and simple
# statements makes walking a large module several times faster.
_STATEMENT_CONTAINERS = (
    cst.Module, cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.ExceptHandler,
    cst.ExceptStarHandler, cst.Finally, cst.MatchCase,
)


class _DefinitionCollector(cst.CSTVisitor):
    def __init__(self, default_indent: str) -> None:
        self.default_indent = default_indent
        self.found: dict[str, list[_Found]] = {}
        self._definitions: list[Definition] = []
        self._indents: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            qualname = ".".join(d.name.value for d in (*self._definitions, node))
            in_class = bool(self._definitions) and isinstance(self._definitions[-1], cst.ClassDef)
            self.found.setdefault(qualname, []).append(_Found(node, in_class, "".join(self._indents)))
            self._definitions.append(node)
        elif isinstance(node, cst.IndentedBlock):
            self._indents.append(self.default_indent if node.indent is None else node.indent)
        return isinstance(node, _STATEMENT_CONTAINERS)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, (cst.FunctionDef, cst.ClassDef)):
            self._definitions.pop()
        elif isinstance(original_node, cst.IndentedBlock):
            self._indents.pop()


def _locate(module: cst.Module, qualname: str, line: int | None = None) -> _Found:
    collector = _DefinitionCollector(module.default_indent)
    module.visit(collector)
    matches = collector.found.get(qualname)
    if not matches:
        known = ", ".join(sorted(collector.found)[:30]) or "none"
        raise LookupError(f"no function or class named `{qualname}` in this file (defined: {known})")
    if line is None or len(matches) == 1:
        return matches[-1]
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for match in matches:
        span = positions[match.node]
        if span.start.line <= line <= span.end.line:
            return match
    before = [m for m in matches if positions[m.node].start.line <= line]
    return before[-1] if before else matches[0]


def find_definition(module: cst.Module, qualname: str, line: int | None = None) -> Definition:
    """Return the FunctionDef/ClassDef named `qualname`; `line` (1-based) picks among redefinitions.

    Raises LookupError when there is no such definition.
    """
    return _locate(module, qualname, line).node


def _parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise ValueError(f"the file does not parse: {error}") from error


# --- facts -----------------------------------------------------------------------------------


class _OwnBodyScanner(cst.CSTVisitor):
    """Collects returns, yields and raises of one function body, not of nested scopes."""

    def __init__(self) -> None:
        self.returns_value = False
        self.raises: list[str] = []
        self._caught_names: set[str] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return False
        if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)) and node.name is not None:
            if isinstance(node.name.name, cst.Name):
                self._caught_names.add(node.name.name.value)
        elif isinstance(node, cst.Yield):
            self.returns_value = True
        elif isinstance(node, cst.Return) and node.value is not None:
            is_none = isinstance(node.value, cst.Name) and node.value.value == "None"
            self.returns_value = self.returns_value or not is_none
        elif isinstance(node, cst.Raise):
            self._note_raise(node)
        return True

    def _note_raise(self, node: cst.Raise) -> None:
        exc = node.exc.func if isinstance(node.exc, cst.Call) else node.exc
        if not isinstance(exc, (cst.Name, cst.Attribute)):
            return
        dotted = cst.Module([]).code_for_node(exc)
        # `raise err` of a caught exception is a re-raise; lowercase names are variables holding
        # an instance, not exception classes (PEP 8 names exception classes in CapWords).
        if dotted in self._caught_names or not dotted.rsplit(".", 1)[-1][:1].isupper():
            return
        if dotted not in self.raises:
            self.raises.append(dotted)


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    names = (d.decorator.value for d in node.decorators if isinstance(d.decorator, cst.Name))
    return "staticmethod" in names


def _param_names(func: cst.FunctionDef, drop_first: bool) -> tuple[str, ...]:
    params = func.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    names = positional[1:] if drop_first else positional
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names.extend(p.name.value for p in params.kwonly_params)
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return tuple(names)


def _header(module: cst.Module, node: Definition) -> str:
    bare = node.with_changes(decorators=(), leading_lines=(), body=cst.SimpleStatementSuite(body=()))
    return module.code_for_node(bare).rstrip().removesuffix("pass").rstrip()


def _init_of(node: cst.ClassDef) -> cst.FunctionDef | None:
    if not isinstance(node.body, cst.IndentedBlock):
        return None
    inits = [s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"]
    return inits[-1] if inits else None


def python_doc_facts(text: str, qualname: str, line: int | None = None) -> DocFacts:
    """Deterministic documentation facts for the function, method or class `qualname`.

    A class's parameters are those of its `__init__`, whose header is appended to the signature.
    `returns_value` is also true for generators (`yield`). Raised types are kept as written
    (`mod.Error`), deduplicated in order. Raises LookupError if `qualname` is not defined.
    """
    module = _parse(text)
    found = _locate(module, qualname, line)
    node = found.node
    signature = _header(module, node)
    if isinstance(node, cst.ClassDef):
        init = _init_of(node)
        params: tuple[str, ...] = ()
        if init is not None:
            params = _param_names(init, drop_first=True)
            init_header = _header(module, init).replace("\n", "\n" + module.default_indent)
            signature += "\n" + module.default_indent + init_header
        return DocFacts(
            name=node.name.value, kind="class", language="python", params=params,
            existing_doc=node.get_docstring(clean=True), signature=signature,
        )
    scanner = _OwnBodyScanner()
    node.body.visit(scanner)
    is_method = found.in_class
    return DocFacts(
        name=node.name.value,
        kind="method" if is_method else "function",
        language="python",
        params=_param_names(node, drop_first=is_method and not _is_staticmethod(node)),
        returns_value=scanner.returns_value,
        raises=tuple(scanner.raises),
        existing_doc=node.get_docstring(clean=True),
        signature=signature,
    )


def body_indent(text: str, qualname: str, line: int | None = None) -> str:
    """The absolute indentation of `qualname`'s body: what `render_docstring` needs as `indent`."""
    module = _parse(text)
    found = _locate(module, qualname, line)
    body = found.node.body
    own = body.indent if isinstance(body, cst.IndentedBlock) and body.indent is not None else None
    return found.indent + (own if own is not None else module.default_indent)


# --- edits -----------------------------------------------------------------------------------


def _is_docstring_expr(statement: cst.BaseSmallStatement) -> bool:
    if not isinstance(statement, cst.Expr):
        return False
    value = statement.value
    return isinstance(value, (cst.SimpleString, cst.ConcatenatedString)) and isinstance(
        value.evaluated_value, str
    )


def _rewrite_suite(
    suite: cst.SimpleStatementSuite, docstring: cst.SimpleString | None
) -> cst.IndentedBlock:
    """A one-line body (`def f(x): return x`) becomes an indented block; its comment stays."""
    rest = list(suite.body)
    if rest and _is_docstring_expr(rest[0]):
        rest = rest[1:]
    lines: list[cst.BaseStatement] = []
    if docstring is not None:
        lines.append(cst.SimpleStatementLine(body=[cst.Expr(docstring)]))
    if rest or docstring is None:
        lines.append(cst.SimpleStatementLine(body=rest or [cst.Pass()]))
    lines[-1] = lines[-1].with_changes(trailing_whitespace=suite.trailing_whitespace)
    return cst.IndentedBlock(body=lines)


def _rewrite_block(block: cst.IndentedBlock, docstring: cst.SimpleString | None) -> cst.IndentedBlock:
    statements = list(block.body)
    first = statements[0] if statements else None
    has_doc = isinstance(first, cst.SimpleStatementLine) and _is_docstring_expr(first.body[0])
    if not has_doc:
        if docstring is not None:
            statements.insert(0, cst.SimpleStatementLine(body=[cst.Expr(docstring)]))
        return block.with_changes(body=statements)
    assert isinstance(first, cst.SimpleStatementLine)
    if docstring is not None:
        replaced = first.body[0].with_changes(value=docstring)
        statements[0] = first.with_changes(body=[replaced, *first.body[1:]])
    elif len(first.body) > 1:
        statements[0] = first.with_changes(body=first.body[1:])
    else:
        # Comments above the old docstring move down to the next statement, not into the void.
        following = statements[1] if len(statements) > 1 else cst.SimpleStatementLine(body=[cst.Pass()])
        assert isinstance(following, (cst.SimpleStatementLine, cst.BaseCompoundStatement))  # libcst's two kinds
        moved = following.with_changes(leading_lines=[*first.leading_lines, *following.leading_lines])
        statements[0:2] = [moved]
    return block.with_changes(body=statements)


class ReplaceNode(cst.CSTTransformer):
    """Swap one statement-level node (a definition) for another; never descends into expressions."""

    def __init__(self, old: Definition, new: Definition) -> None:
        self.old, self.new = old, new

    def on_visit(self, node: cst.CSTNode) -> bool:
        return isinstance(node, _STATEMENT_CONTAINERS)

    def on_leave(self, original_node: cst.CSTNodeT, updated_node: cst.CSTNodeT) -> cst.CSTNodeT:
        # libcst types a transformer as keeping each node's type; the new definition takes the old
        # one's place whatever its type (a function may replace a class).
        return cast(cst.CSTNodeT, self.new) if original_node is self.old else updated_node


def _rewrite(module: cst.Module, target: Definition, docstring: cst.SimpleString | None) -> str:
    body = target.body
    if isinstance(body, cst.SimpleStatementSuite):
        new_body = _rewrite_suite(body, docstring)
    else:
        assert isinstance(body, cst.IndentedBlock)  # the other kind of suite
        new_body = _rewrite_block(body, docstring)
    return module.visit(ReplaceNode(target, target.with_changes(body=new_body))).code


def _docstring_node(literal: str, newline: str) -> cst.SimpleString:
    try:
        node = cst.parse_expression(literal.strip())
    except cst.ParserSyntaxError as error:
        raise ValueError(f"not a string literal: {error}") from error
    if not isinstance(node, cst.SimpleString) or not isinstance(node.evaluated_value, str):
        raise ValueError("a docstring must be one str literal (no bytes, f-string or concatenation)")
    return node.with_changes(value=node.value.replace("\r\n", "\n").replace("\n", newline))


def apply_docstring(text: str, qualname: str, docstring_literal: str, line: int | None = None) -> str:
    """Return `text` with `docstring_literal` as the docstring of `qualname` (inserted or replaced).

    A one-line body is turned into an indented block (module indentation); nothing else changes.
    Raises ValueError for unparsable text or a literal that is not a str literal, LookupError
    when `qualname` is not defined.
    """
    module = _parse(text)
    target = find_definition(module, qualname, line)
    docstring = _docstring_node(docstring_literal, module.default_newline)
    return _rewrite(module, target, docstring)


def strip_docstring(text: str, qualname: str, line: int | None = None) -> str:
    """Return `text` without `qualname`'s docstring, its body normalised the way `apply_docstring`
    leaves it (a one-line body becomes a block), so two versions can be compared for code changes."""
    module = _parse(text)
    target = find_definition(module, qualname, line)
    return _rewrite(module, target, None)
