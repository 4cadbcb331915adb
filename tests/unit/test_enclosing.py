"""`symbol_at` finds the innermost definition by descending one path of the tree; it must agree
with the whole-file index (`index_symbols` + the smallest span containing the offset) everywhere."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.analysis.enclosing import symbol_at
from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, parse
from swarm_lsp.swarm.analysis.symbols import index_symbols

PYTHON = '''\
import os


@decorator
@other.decorator(1)
def top(a, b):
    """Doc."""
    def inner(x):
        return lambda y: y + x

    class Local:
        def method(self):
            pass
    return inner


class Outer(Base):
    attr = 1

    @property
    def value(self):
        return self._value

    @staticmethod
    def make(n):
        return Outer()

    class Inner:
        def deep(self):
            def helper():
                pass
            return helper

    if TYPE_CHECKING:
        def typed(self) -> int: ...
    else:
        def typed(self):
            return 1

try:
    from fast import speed
except ImportError:
    def speed(x):
        return x

with open(os.devnull) as f:
    def in_with():
        pass

result = [lambda: None for _ in range(3)]


async def fetch(url):
    async with session() as s:
        return await s.get(url)

match command:
    case "go":
        def go_handler():
            pass
'''

BROKEN_PYTHON = '''\
def ok():
    return 1

def broken(:
    pass

class Fine:
    def m(self):
        x = (
'''

JAVASCRIPT = '''\
// header comment
import x from "y";

export function add(a, b = 1, ...rest) {
  function nested() {
    const deeper = () => {
      return 1;
    };
    return deeper;
  }
  return a + b;
}

export default function main() {}

function* gen({x, y}, [z]) {
  yield x;
}

export class Counter extends Base {
  static count = 0;
  handler = (event) => {
    this.bump(1);
  };
  constructor(start) {
    super();
    this.n = start;
  }
  bump(step) {
    return this.n + step;
  }
  get value() { return this.n; }
  static {
    init();
  }
}

export const double = (n) => n * 2;
const named = function (w) {}, other = 1, third = () => {};
var Klass = class Named {
  m() {}
};

if (cond) {
  function inIf() {}
} else {
  function inElse() {}
}

label: for (let i = 0; i < 3; i++) {
  const inLoop = () => i;
}
switch (x) {
  case 1: {
    function inCase() {}
  }
}
try { function inTry() {} } catch (e) { function inCatch() {} } finally { function inFinally() {} }
module.exports = function exported() {};
'''

TYPESCRIPT = '''\
export class Store<T> {
  private items: T[] = [];

  @logged()
  @other
  add(this: Store<T>, item: T, label?: string): number {
    return this.items.push(item);
  }

  @bound

  remove = (index: number): void => {
    this.items.splice(index, 1);
  };

  @lonely
  // a comment between a decorator and its member
  kept(): void {}
}

export abstract class Shape {
  abstract area(): number;
  describe(): string { return "shape"; }
}

namespace Geometry {
  export function dist(a: number, b: number): number {
    return Math.abs(a - b);
  }
  export namespace Inner {
    export const f = (x: number) => x;
  }
}

interface Point { x: number; y: number }
type Alias = (x: number) => number;

export function total(...values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

enum Color { Red, Green }
'''

TSX = '''\
export function App(props: Props) {
  const handle = () => { setX(1); };
  return <div onClick={handle}>{props.name}</div>;
}
export const Button = ({ label }: { label: string }) => <button>{label}</button>;
'''

GO = '''\
package stack

import "fmt"

// Stack is a stack.
type Stack[T any] struct {
	items []T
}

type (
	Pair struct{ a, b int }
	Name string
	Other struct {
		x int
	}
)

type Single struct{}

func New() *Stack[int] {
	inner := func() int { return 1 }
	_ = inner
	return &Stack[int]{}
}

func (s *Stack[T]) Push(v T, _ string) {
	s.items = append(s.items, v)
}

func (Stack[T]) Len() int {
	return 0
}

var x = 1

func Sum(a, b int, rest ...int) int {
	return a + b
}
'''

RUST = '''\
//! crate docs
use std::fmt;

#[derive(Debug)]

pub struct Stack {
    items: Vec<i32>,
}

impl Stack {
    #[inline]
    pub fn push(&mut self, value: i32) {
        fn local() {}
        self.items.push(value);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

#[allow(dead_code)]
impl<T> fmt::Display for Wrapper<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "w")
    }
}

pub trait Shape {
    fn area(&self) -> f64;
    fn describe(&self) -> String {
        String::from("shape")
    }
}

enum Color { Red, Green }

mod inner {
    #[test]
    #[ignore]
    fn helper() {}

    pub mod deeper {
        pub struct Deep;
    }
}

/// Documented: the doc comment sits between the attribute and the item.
#[inline]
fn helper(mut count: usize, (a, b): (i32, i32), _: u8) -> usize {
    count + 1
}

union U { a: u32 }
const X: i32 = 1;
'''

SAMPLES = [
    ("python", PYTHON, False),
    ("python", BROKEN_PYTHON, False),
    ("javascript", JAVASCRIPT, False),
    ("typescript", TYPESCRIPT, False),
    ("typescript", TSX, True),
    ("go", GO, False),
    ("rust", RUST, False),
]


def innermost(symbols, offset):
    containing = [s for s in symbols if s.span.start_byte <= offset < s.span.end_byte]
    if not containing:
        return None
    return min(containing, key=lambda s: (s.span.end_byte - s.span.start_byte, -s.span.start_byte))


@pytest.mark.parametrize(("language", "source", "tsx"), SAMPLES, ids=[
    "python", "python-broken", "javascript", "typescript", "tsx", "go", "rust",
])
def test_symbol_at_agrees_with_the_index_at_every_offset(language, source, tsx):
    tree = parse(source, language, tsx=tsx)
    symbols = index_symbols(source, language, tsx=tsx)
    assert len(symbols) >= 2
    data = source.encode()
    lines_checked = set()
    for offset in range(len(data) + 1):
        expected = innermost(symbols, offset)
        found = symbol_at(tree, language, offset)
        want = None if expected is None else (expected.name, expected.qualname, expected.kind, expected.span)
        got = None if found is None else (found.name, found.qualname, found.kind, found.span)
        line = data[:offset].count(b"\n")
        assert got == want, f"offset {offset} (line {line + 1})"
        if found is not None:
            assert found.start_line == expected.span.start_line
        lines_checked.add(line)
    assert len(lines_checked) == source.count("\n") + 1


def test_examples_of_what_the_cursor_gets():
    tree = parse(PYTHON, "python")
    data = PYTHON.encode()

    def at(needle):
        found = symbol_at(tree, "python", data.index(needle.encode()))
        return found and (found.qualname, found.kind, found.start_line)

    assert at("return lambda y") == ("top.inner", "function", 7)
    assert at("@other.decorator") == ("top", "function", 3)  # the decorator belongs to the function
    assert at("pass\n    return inner") == ("top.Local.method", "method", 11)
    assert at("return self._value") == ("Outer.value", "method", 19)
    assert at("def helper") == ("Outer.Inner.deep.helper", "function", 29)
    assert at("attr = 1") == ("Outer", "class", 16)
    assert at("import os") is None
    assert at("result = ") is None


def test_decorators_and_attributes_that_are_siblings_belong_to_their_member():
    ts = parse(TYPESCRIPT, "typescript")
    data = TYPESCRIPT.encode()
    assert symbol_at(ts, "typescript", data.index(b"@logged")).qualname == "Store.add"
    # The blank line between `@bound` and its member is inside the member's span.
    assert symbol_at(ts, "typescript", data.index(b"@bound") + len("@bound\n")).qualname == "Store.remove"
    # A comment interrupts: `@lonely` is not part of `kept`'s span.
    assert symbol_at(ts, "typescript", data.index(b"@lonely")).qualname == "Store"
    rust = parse(RUST, "rust")
    data = RUST.encode()
    assert symbol_at(rust, "rust", data.index(b"#[derive")).qualname == "Stack"
    assert symbol_at(rust, "rust", data.index(b"#[ignore]")).qualname == "inner.helper"
    assert symbol_at(rust, "rust", data.index(b"fn local")).qualname == "Stack.push"
    assert symbol_at(rust, "rust", data.index(b"fn fmt")).qualname == "Wrapper.fmt"


def test_go_receivers_and_grouped_types():
    tree = parse(GO, "go")
    data = GO.encode()
    assert symbol_at(tree, "go", data.index(b"s.items = append")).qualname == "Stack.Push"
    assert symbol_at(tree, "go", data.index(b"return 0")).qualname == "Stack.Len"
    assert symbol_at(tree, "go", data.index(b"x int")).qualname == "Other"
    assert symbol_at(tree, "go", data.index(b"Name string")) is None
    assert symbol_at(tree, "go", data.index(b"type (")) is None


def test_offsets_outside_the_text_and_unknown_languages():
    tree = parse(PYTHON, "python")
    assert symbol_at(tree, "python", 10**9) is None
    assert symbol_at(parse("", "python"), "python", 0) is None
    with pytest.raises(UnsupportedLanguage):
        symbol_at(tree, "cobol", 0)
