"""Symbol indexing and resolution for all five languages, and CLI target parsing."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, has_errors, language_for_path, parse
from swarm_lsp.swarm.analysis.symbols import SymbolNotFound, index_symbols, parse_target, resolve_symbol

PYTHON = '''\
import functools


@functools.cache
def top(a, *args, b=1, c: int = 2, **kwargs):
    def helper(x):
        return x
    return helper(a)


class Outer:
    def __init__(self, size, *, label="x"):
        self.size = size

    @staticmethod
    def make(n):
        return Outer(n)

    class Inner:
        def method(self, value):
            return value
'''

JAVASCRIPT = '''\
export function add(a, b = 1, ...rest) {
  return a + b;
}

function* gen({x, y}, [z]) {
  yield x;
}

export class Counter {
  constructor(start) {
    this.n = start;
  }
  bump(step) {
    return this.n + step;
  }
}

export const double = (n) => n * 2;
const named = function (w) {};
'''

TYPESCRIPT = '''\
export class Store<T> {
  private items: T[] = [];

  @logged()
  add(this: Store<T>, item: T, label?: string): number {
    return this.items.push(item);
  }

  remove = (index: number): void => {
    this.items.splice(index, 1);
  };
}

export function total(...values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
'''

GO = '''\
package stack

type Stack[T any] struct {
	items []T
}

func New() *Stack[int] {
	return &Stack[int]{}
}

func (s *Stack[T]) Push(v T, _ string) {
	s.items = append(s.items, v)
}

func (s Stack[T]) Len() int {
	return len(s.items)
}

func Sum(a, b int, rest ...int) int {
	return a + b
}
'''

RUST = '''\
#[derive(Debug, Default)]
pub struct Stack {
    items: Vec<i32>,
}

impl Stack {
    pub fn push(&mut self, value: i32) {
        self.items.push(value);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

pub trait Shape {
    fn area(&self) -> f64;
}

fn helper(mut count: usize, (a, b): (i32, i32), _: u8) -> usize {
    count + 1
}
'''


def table(symbols):
    return [(s.qualname, s.kind, s.params) for s in symbols]


def test_python_symbols_have_qualnames_kinds_and_params():
    assert table(index_symbols(PYTHON, "python")) == [
        ("top", "function", ("a", "args", "b", "c", "kwargs")),
        ("top.helper", "function", ("x",)),
        ("Outer", "class", ("size", "label")),
        ("Outer.__init__", "method", ("size", "label")),
        ("Outer.make", "method", ("n",)),  # staticmethod: the first parameter is real
        ("Outer.Inner", "class", ()),
        ("Outer.Inner.method", "method", ("value",)),
    ]


def test_python_span_includes_decorator_and_uses_zero_based_lines():
    top = resolve_symbol(index_symbols(PYTHON, "python"), "top")
    assert (top.span.start_line, top.span.start_col) == (3, 0)  # the `@functools.cache` line
    assert (top.name_span.start_line, top.name_span.start_col) == (4, 4)
    assert top.span.end_line == 7
    assert PYTHON.encode()[top.span.start_byte : top.span.end_byte].startswith(b"@functools.cache\ndef top")


def test_spans_are_utf8_byte_offsets():
    source = 'x = "héllo"\ndef f(): pass\n'
    (f,) = index_symbols(source, "python")
    assert f.span.start_byte == len('x = "héllo"\n'.encode())
    assert source.encode()[f.name_span.start_byte : f.name_span.end_byte] == b"f"


def test_javascript_functions_classes_methods_and_arrow_consts():
    symbols = index_symbols(JAVASCRIPT, "javascript")
    assert table(symbols) == [
        ("add", "function", ("a", "b", "rest")),
        ("gen", "function", ("param0", "param1")),
        ("Counter", "class", ()),
        ("Counter.constructor", "method", ("start",)),
        ("Counter.bump", "method", ("step",)),
        ("double", "function", ("n",)),
        ("named", "function", ("w",)),
    ]
    add = resolve_symbol(symbols, "add")
    double = resolve_symbol(symbols, "double")
    assert JAVASCRIPT.encode()[add.span.start_byte :].startswith(b"export function add")
    assert JAVASCRIPT.encode()[double.span.start_byte : double.span.end_byte] == b"export const double = (n) => n * 2;"


def test_typescript_methods_fields_and_this_parameter():
    symbols = index_symbols(TYPESCRIPT, "typescript")
    assert table(symbols) == [
        ("Store", "class", ()),
        ("Store.add", "method", ("item", "label")),  # TypeScript's `this` parameter is not a parameter
        ("Store.remove", "method", ("index",)),
        ("total", "function", ("values",)),
    ]
    add = resolve_symbol(symbols, "Store.add")
    assert add.span.start_line == 3  # starts at the `@logged()` decorator


def test_tsx_grammar_is_used_for_jsx():
    source = "export function App(props: Props) {\n  return <div>{props.name}</div>;\n}\n"
    assert has_errors(parse(source, "app.tsx")) == []
    assert table(index_symbols(source, "typescript", tsx=True)) == [("App", "function", ("props",))]


def test_go_functions_methods_with_receiver_and_structs():
    assert table(index_symbols(GO, "go")) == [
        ("Stack", "class", ()),
        ("New", "function", ()),
        ("Stack.Push", "method", ("v",)),  # receiver excluded, `_` skipped, pointer and [T] stripped
        ("Stack.Len", "method", ()),
        ("Sum", "function", ("a", "b", "rest")),
    ]


def test_rust_items_impl_and_trait_methods():
    symbols = index_symbols(RUST, "rust")
    assert table(symbols) == [
        ("Stack", "class", ()),
        ("Stack.push", "method", ("value",)),
        ("Stack.len", "method", ()),
        ("Shape", "class", ()),
        ("Shape.area", "method", ()),
        ("helper", "function", ("count", "(a, b)")),
    ]
    stack = symbols[0]
    assert stack.span.start_line == 0  # the #[derive] attribute belongs to the struct


@pytest.mark.parametrize(
    ("source", "language", "target", "expected"),
    [
        (PYTHON, "python", "Outer.Inner.method", "Outer.Inner.method"),
        (PYTHON, "python", "method", "Outer.Inner.method"),
        (PYTHON, "python", "Inner.method", "Outer.Inner.method"),
        (JAVASCRIPT, "javascript", "bump", "Counter.bump"),
        (TYPESCRIPT, "typescript", "remove", "Store.remove"),
        (GO, "go", "Push", "Stack.Push"),
        (GO, "go", "(*Stack).Push", "Stack.Push"),
        (RUST, "rust", "area", "Shape.area"),
        (RUST, "rust", "Stack::len", "Stack.len"),
    ],
)
def test_resolve_by_qualname_or_unique_bare_name(source, language, target, expected):
    assert resolve_symbol(index_symbols(source, language), target).qualname == expected


@pytest.mark.parametrize(
    ("source", "language", "line", "expected"),
    [
        (PYTHON, "python", "6", "top.helper"),  # inside the nested function
        (PYTHON, "python", "8", "top"),
        (PYTHON, "python", "4", "top"),  # the decorator line belongs to the function
        (PYTHON, "python", "21", "Outer.Inner.method"),
        (JAVASCRIPT, "javascript", "14", "Counter.bump"),
        (JAVASCRIPT, "javascript", "16", "Counter"),
        (TYPESCRIPT, "typescript", "10", "Store.remove"),
        (GO, "go", "12", "Stack.Push"),
        (RUST, "rust", "8", "Stack.push"),
        (RUST, "rust", "1", "Stack"),
    ],
)
def test_resolve_by_line_picks_innermost(source, language, line, expected):
    assert resolve_symbol(index_symbols(source, language), line).qualname == expected


def test_line_outside_every_symbol_names_the_nearest():
    with pytest.raises(SymbolNotFound) as err:
        resolve_symbol(index_symbols(GO, "go"), "1")
    assert "line 1 is not inside any function" in str(err.value)
    assert "`Stack`" in str(err.value)


def test_ambiguous_bare_name_lists_qualified_choices():
    source = "class A:\n    def run(self): pass\n\nclass B:\n    def run(self): pass\n"
    with pytest.raises(SymbolNotFound) as err:
        resolve_symbol(index_symbols(source, "python"), "run")
    assert "`A.run`" in str(err.value) and "`B.run`" in str(err.value)
    assert err.value.suggestions == ["A.run", "B.run"]


def test_duplicate_qualnames_ask_for_a_line():
    source = "impl Debug for P { fn fmt(&self) {} }\nimpl Display for P { fn fmt(&self) {} }\n"
    with pytest.raises(SymbolNotFound, match=r"defined 2 times \(line 1, line 2\).*PATH:LINE"):
        resolve_symbol(index_symbols(source, "rust"), "P.fmt")


@pytest.mark.parametrize(
    ("source", "language", "typo", "suggestion"),
    [
        (PYTHON, "python", "Outer.mak", "Outer.make"),
        (JAVASCRIPT, "javascript", "Counter.bmup", "Counter.bump"),
        (TYPESCRIPT, "typescript", "totl", "total"),
        (GO, "go", "Stack.Psh", "Stack.Push"),
        (RUST, "rust", "helpr", "helper"),
    ],
)
def test_not_found_suggests_close_names(source, language, typo, suggestion):
    with pytest.raises(SymbolNotFound) as err:
        resolve_symbol(index_symbols(source, language), typo)
    assert f"did you mean `{suggestion}`" in str(err.value)
    assert suggestion in err.value.suggestions


def test_not_found_without_close_match_lists_symbols():
    with pytest.raises(SymbolNotFound, match="symbols in this file: `New`, `Stack`"):
        resolve_symbol(index_symbols("package p\nfunc New() {}\ntype Stack struct{}\n", "go"), "zzzz")


def test_empty_file_has_no_symbols():
    with pytest.raises(SymbolNotFound, match="no functions, methods or classes"):
        resolve_symbol(index_symbols("x = 1\n", "python"), "x")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("src/app.py::Outer.method", ("src/app.py", "Outer.method")),
        ("src/lib.rs::Stack::push", ("src/lib.rs", "Stack.push")),
        ("src/app.py:42", ("src/app.py", "42")),
        ("src/app.py", ("src/app.py", None)),
        ("weird:name.py", ("weird:name.py", None)),
        ("dir:1/file.go:7", ("dir:1/file.go", "7")),
    ],
)
def test_parse_target(spec, expected):
    assert parse_target(spec) == expected


def test_parse_target_rejects_empty_name():
    with pytest.raises(ValueError, match="PATH::Qualified.name"):
        parse_target("src/app.py::")


def test_language_for_path_and_unsupported_extension():
    assert [language_for_path(p) for p in ("a.py", "b.mjs", "c.cts", "d.tsx", "e.go", "f.rs", "g.JSX")] == [
        "python", "javascript", "typescript", "typescript", "go", "rust", "javascript",
    ]
    with pytest.raises(UnsupportedLanguage, match=r"'notes\.rb' \(\.rb\): supported extensions are .*\.py"):
        language_for_path("notes.rb")


def test_has_errors_reports_location_and_missing_tokens():
    problems = has_errors(parse("def f(a:\n    pass\n", "python"))
    assert problems and all(p.startswith("line ") for p in problems)
    assert any("missing" in p or "syntax error" in p for p in problems)
    assert has_errors(parse("fn ok() {}\n", "rust")) == []
