"""Doc comments for JavaScript, TypeScript, Go and Rust: facts, render, apply (before/after), gates."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.analysis.symbols import index_symbols, resolve_symbol
from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.codemods.doc_comment import (
    apply_doc_comment,
    doc_comment_gates,
    doc_facts_for,
    line_indent,
    render_doc_comment,
)


def document(source: str, language: str, target: str, content: DocContent, *, tsx: bool = False):
    """The whole pipeline as an action runs it; returns (new text, facts, gates by name)."""
    symbol = resolve_symbol(index_symbols(source, language, tsx=tsx), target)
    facts = doc_facts_for(source, symbol, tsx=tsx)
    comment = render_doc_comment(language, content, facts, line_indent(source, symbol))
    new, span = apply_doc_comment(source, symbol, comment, tsx=tsx)
    gates = doc_comment_gates(source, new, language, span, facts, tsx=tsx)
    return new, facts, {g.name: g for g in gates}


def apply_raw(source: str, language: str, target: str, comment: str):
    """Apply a hand-written comment (what a careless writer could produce) and gate it."""
    symbol = resolve_symbol(index_symbols(source, language), target)
    facts = doc_facts_for(source, symbol)
    new, span = apply_doc_comment(source, symbol, comment)
    return new, {g.name: g for g in doc_comment_gates(source, new, language, span, facts)}


JS_SOURCE = '''\
class Counter {
  /**
   * Old summary.
   */
  add(count, {step} = {}) {
    if (count < 0) throw new RangeError("negative");
    const check = () => { throw new TypeError("ignored: nested function"); };
    return count + step;
  }

  reset() {
    this.n = 0;
  }
}
'''


def test_js_facts_from_the_body():
    symbol = resolve_symbol(index_symbols(JS_SOURCE, "javascript"), "Counter.add")
    assert doc_facts_for(JS_SOURCE, symbol) == DocFacts(
        name="add",
        kind="method",
        language="javascript",
        params=("count", "param1"),
        returns_value=True,
        raises=("RangeError",),
        existing_doc="Old summary.",
        signature="add(count, {step} = {})",
    )
    reset = resolve_symbol(index_symbols(JS_SOURCE, "javascript"), "reset")
    facts = doc_facts_for(JS_SOURCE, reset)
    assert (facts.returns_value, facts.raises, facts.existing_doc) == (False, (), None)


def test_js_replaces_existing_jsdoc():
    content = DocContent(
        summary="Add to the counter.",
        description="Negative counts are refused.",
        params={"count": "How many to add.", "param1": "Options.", "param1.step": "Step size.", "bogus": "x"},
        returns="The new total.",
        raises={"RangeError": "If `count` is negative."},
    )
    new, _, gates = document(JS_SOURCE, "javascript", "Counter.add", content)
    assert new == JS_SOURCE.replace(
        "  /**\n   * Old summary.\n   */\n",
        "  /**\n"
        "   * Add to the counter.\n"
        "   *\n"
        "   * Negative counts are refused.\n"
        "   *\n"
        "   * @param count How many to add.\n"
        "   * @param param1 Options.\n"
        "   * @param param1.step Step size.\n"
        "   * @returns The new total.\n"
        "   * @throws {RangeError} If `count` is negative.\n"
        "   */\n",
    )
    assert all(g.passed for g in gates.values()), gates
    assert set(gates) == {"parses", "outside_unchanged", "params_documented", "returns_documented", "raises_documented"}


def test_js_missing_param_returns_and_throws_fail_with_actionable_reasons():
    content = DocContent(summary="Add to the counter.", params={"count": "How many."})
    _, _, gates = document(JS_SOURCE, "javascript", "Counter.add", content)
    assert gates["parses"].passed and gates["outside_unchanged"].passed
    assert gates["params_documented"].reasons == ["@param for `param1` is missing; add `@param param1 <description>`"]
    assert not gates["returns_documented"].passed
    assert "@returns is missing: `add` returns a value" in gates["returns_documented"].reasons[0]
    assert gates["raises_documented"].reasons == [
        "@throws for `RangeError` is missing; add `@throws {RangeError} <when it is thrown>`"
    ]


def test_js_renderer_escapes_comment_terminator():
    facts = DocFacts(name="f", kind="function", language="javascript")
    comment = render_doc_comment("javascript", DocContent(summary="Matches */ literally."), facts, "")
    assert comment == "/**\n * Matches *\\/ literally.\n */\n"


def test_js_comment_closed_early_by_star_slash_fails_parses():
    source = "function area(w, h) {\n  return w * h;\n}\n"
    broken = "/**\n * Area of a box */ not a comment any more.\n * @param w width\n * @param h height\n */\n"
    new, gates = apply_raw(source, "javascript", "area", broken)
    assert new == broken + source
    assert not gates["parses"].passed
    assert any("`*/` inside the text closes the comment early" in r for r in gates["parses"].reasons)
    assert gates["outside_unchanged"].passed  # only the comment lines were touched


def test_js_param_that_does_not_exist_is_reported():
    source = "function area(w, h) {\n  return w * h;\n}\n"
    comment = "/**\n * Area.\n * @param {number} w width\n * @param {number} [depth=1] depth\n * @returns area\n */\n"
    _, gates = apply_raw(source, "javascript", "area", comment)
    assert gates["params_documented"].reasons == [
        "@param for `h` is missing; add `@param h <description>`",
        "@param `depth` does not name a parameter of `area` (its parameters: `w`, `h`)",
    ]
    assert gates["returns_documented"].passed


TS_SOURCE = '''\
import { api } from "./api";

@Injectable()
export class Users {
  constructor(private http: Http) {}
}

export const fetchUser = async (id: string, opts?: Options): Promise<User> => {
  const res = await api.get(id);
  return res.user;
};
'''


def test_ts_exported_arrow_gets_jsdoc_above_export():
    content = DocContent(summary="Fetch one user.", params={"id": "The user id.", "opts": "Request options."},
                         returns="The user.")
    new, facts, gates = document(TS_SOURCE, "typescript", "fetchUser", content)
    assert facts.signature == "export const fetchUser = async (id: string, opts?: Options): Promise<User> =>"
    assert (facts.params, facts.returns_value, facts.existing_doc) == (("id", "opts"), True, None)
    expected_comment = (
        "/**\n * Fetch one user.\n *\n * @param id The user id.\n * @param opts Request options.\n"
        " * @returns The user.\n */\n"
    )
    assert new == TS_SOURCE.replace("export const fetchUser", expected_comment + "export const fetchUser")
    assert all(g.passed for g in gates.values()), gates


def test_ts_class_comment_goes_above_decorator():
    new, _, gates = document(TS_SOURCE, "typescript", "Users", DocContent(summary="User service."))
    assert "/**\n * User service.\n */\n@Injectable()\nexport class Users" in new
    assert set(gates) == {"parses", "outside_unchanged", "params_documented"}
    assert all(g.passed for g in gates.values())


def test_tsx_file_round_trip():
    source = "export function App(props: Props) {\n  return <div>{props.name}</div>;\n}\n"
    content = DocContent(summary="Render the app.", params={"props": "Component props."}, returns="The element.")
    new, _, gates = document(source, "typescript", "App", content, tsx=True)
    assert new.startswith("/**\n * Render the app.\n")
    assert all(g.passed for g in gates.values()), gates


GO_SOURCE = '''\
package stack

// push old text
// more old text
//go:noinline
func (s *Stack) Push(v int, label string) (int, error) {
\ts.items = append(s.items, v)
\treturn len(s.items), nil
}

// Unrelated comment.

func Reset(s *Stack) {
\ts.items = nil
}
'''


def test_go_facts_and_existing_doc_above_directive():
    symbol = resolve_symbol(index_symbols(GO_SOURCE, "go"), "Stack.Push")
    facts = doc_facts_for(GO_SOURCE, symbol)
    assert facts.existing_doc == "push old text\nmore old text"
    assert facts.signature == "func (s *Stack) Push(v int, label string) (int, error)"
    assert (facts.params, facts.returns_value, facts.raises) == (("v", "label"), True, ())
    reset = doc_facts_for(GO_SOURCE, resolve_symbol(index_symbols(GO_SOURCE, "go"), "Reset"))
    assert reset.existing_doc is None  # a blank line separates the comment from the function


def test_go_replaces_doc_keeps_directive_and_prefixes_name():
    content = DocContent(
        summary="Adds v to the top of the stack.",
        params={"v": "the value to push", "label": "a name for logging"},
        returns="the new size and a nil error",
    )
    new, _, gates = document(GO_SOURCE, "go", "Stack.Push", content)
    assert new == GO_SOURCE.replace(
        "// push old text\n// more old text\n",
        "// Push adds v to the top of the stack.\n"
        "//\n"
        "// Parameters:\n"
        "//   - v: the value to push\n"
        "//   - label: a name for logging\n"
        "//\n"
        "// Returns the new size and a nil error.\n",
    )
    assert set(gates) == {"parses", "outside_unchanged", "params_documented"}
    assert all(g.passed for g in gates.values()), gates


def test_go_summary_already_starting_with_name_is_kept():
    facts = DocFacts(name="Stack", kind="class", language="go")
    assert render_doc_comment("go", DocContent(summary="A Stack holds ints."), facts, "") == "// A Stack holds ints.\n"
    assert render_doc_comment("go", DocContent(summary="JSON encoder state."), facts, "") == (
        "// Stack JSON encoder state.\n"
    )


def test_go_unmentioned_param_and_plain_block_comment_fail():
    comment = "/* Push pushes v. */\n"
    _, gates = apply_raw(GO_SOURCE, "go", "Stack.Push", comment)
    assert gates["params_documented"].reasons == ["parameter `label` is not mentioned; describe it in the comment"]
    assert gates["parses"].reasons == ["line 3 is not doc-comment syntax: start it with `//`"]


RUST_SOURCE = '''\
pub struct Parser;

impl Parser {
    /// Old docs.
    #[inline]
    pub fn parse(&self, input: &str) -> Result<u32, String> {
        if input.is_empty() {
            panic!("empty input");
        }
        input.parse().map_err(|e| format!("{e}"))
    }
}
'''


def test_rust_facts_result_and_panic():
    symbol = resolve_symbol(index_symbols(RUST_SOURCE, "rust"), "Parser.parse")
    facts = doc_facts_for(RUST_SOURCE, symbol)
    assert facts.raises == ("Err", "panic")
    assert facts.returns_value and facts.params == ("input",)
    assert facts.existing_doc == "Old docs."
    assert facts.signature == "#[inline]\n    pub fn parse(&self, input: &str) -> Result<u32, String>"


def test_rust_renders_sections_above_attributes_replacing_old_doc():
    content = DocContent(
        summary="Parse a decimal number.",
        params={"input": "the text to parse"},
        returns="the parsed value",
        raises={"Err": "when `input` is not a number", "panic": "if `input` is empty"},
    )
    new, _, gates = document(RUST_SOURCE, "rust", "Parser.parse", content)
    assert new == RUST_SOURCE.replace(
        "    /// Old docs.\n",
        "    /// Parse a decimal number.\n"
        "    ///\n"
        "    /// # Arguments\n"
        "    ///\n"
        "    /// * `input` - the text to parse\n"
        "    ///\n"
        "    /// Returns the parsed value.\n"
        "    ///\n"
        "    /// # Errors\n"
        "    ///\n"
        "    /// Returns `Err` when `input` is not a number.\n"
        "    ///\n"
        "    /// # Panics\n"
        "    ///\n"
        "    /// Panics if `input` is empty.\n",
    )
    assert all(g.passed for g in gates.values()), gates


def test_rust_missing_errors_section_and_plain_comment_fail():
    comment = "    /// Parse `input`.\n    // not a doc line\n"
    _, gates = apply_raw(RUST_SOURCE, "rust", "Parser.parse", comment)
    assert gates["params_documented"].passed
    assert gates["parses"].reasons == ["line 5 is not doc-comment syntax: start it with `///`"]
    assert gates["raises_documented"].reasons == [
        "`parse` returns a `Result`: add a `# Errors` section saying when it returns `Err`",
        "`parse` can `panic!`: add a `# Panics` section saying when",
    ]


def test_outside_unchanged_catches_edits_to_code():
    source = "function f(a) {\n  return a;\n}\n"
    symbol = resolve_symbol(index_symbols(source, "javascript"), "f")
    facts = doc_facts_for(source, symbol)
    new, span = apply_doc_comment(source, symbol, "/** F.\n * @param a x\n * @returns a\n */\n")
    tampered = new.replace("return a;", "return a + 1;")
    gates = {g.name: g for g in doc_comment_gates(source, tampered, "javascript", span, facts)}
    assert not gates["outside_unchanged"].passed
    assert "the code after the comment changed (line 6)" in gates["outside_unchanged"].reasons[0]


def test_outside_unchanged_refuses_removing_code_above():
    source = "const x = 1;\nfunction f(a) {\n  return a;\n}\n"
    symbol = resolve_symbol(index_symbols(source, "javascript"), "f")
    facts = doc_facts_for(source, symbol)
    comment = "/** F.\n * @param a x\n * @returns a\n */\n"
    new = comment + source[len("const x = 1;\n") :]
    gates = {g.name: g for g in doc_comment_gates(source, new, "javascript", (0, len(comment)), facts)}
    assert gates["outside_unchanged"].reasons == [
        "the edit removed code above the definition (`const`), not just the old doc comment"
    ]


def test_preexisting_syntax_errors_are_not_blamed_on_the_comment():
    source = "function f(a) {\n  return a;\n}\nlet broken = ;\n"
    new, _, gates = document(source, "javascript", "f", DocContent(summary="F.", params={"a": "x"}, returns="a"))
    assert gates["parses"].passed, gates["parses"].reasons
    assert new.startswith("/**\n * F.\n")


def test_crlf_files_keep_their_line_endings():
    source = "fn one() -> i32 {\r\n    1\r\n}\r\n"
    new, _, gates = document(source, "rust", "one", DocContent(summary="One.", returns="1"))
    assert new == "/// One.\r\n///\r\n/// Returns 1.\r\n" + source
    assert all(g.passed for g in gates.values()), gates


def test_long_text_is_wrapped_under_100_columns():
    facts = DocFacts(name="run", kind="function", language="go", params=("job",))
    content = DocContent(summary="Runs the job. " + "It does a great many careful things. " * 6,
                         params={"job": "the job to run " * 10})
    comment = render_doc_comment("go", content, facts, "\t")
    lines = comment.splitlines()
    assert all(len(line.expandtabs(4)) <= 100 for line in lines)
    assert lines[0].startswith("\t// run runs the job.")  # unexported names keep their case
    assert lines[5].startswith("\t//   - job: the job to run")
    assert lines[6].startswith("\t//     to run")  # list continuation indent


def test_python_is_not_a_doc_comment_language():
    symbol = resolve_symbol(index_symbols("def f():\n    pass\n", "python"), "f")
    with pytest.raises(ValueError, match="python uses docstrings"):
        doc_facts_for("def f():\n    pass\n", symbol)


def test_unclosed_jsdoc_is_reported():
    source = "function area(w, h) {\n  return w * h;\n}\n"
    _, gates = apply_raw(source, "javascript", "area", "/**\n * Area.\n * @param w width\n * @param h height\n")
    assert not gates["parses"].passed
    assert "the comment is not closed: end it with a ` */` line" in gates["parses"].reasons
