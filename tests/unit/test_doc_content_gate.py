"""The content gate: descriptions must be prose, not decoding debris or a repeated name."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.gates.doc_content import content_gate

FACTS = DocFacts("slugify", "function", "python", ("text", "separator"), True, ("ValueError",))
GOOD = DocContent("Turn text into a URL slug.", params={"text": "The text to convert.", "separator": "The string put between words."},
                  returns="The slug.", raises={"ValueError": "If text is empty."})


def check(**changes):
    content = DocContent(**{**GOOD.__dict__, **changes})
    return content_gate(content, FACTS, summary_max=160, field_max=240)


def test_good_content_passes():
    assert check().passed


@pytest.mark.parametrize("separator", ["-", "-}}},{'returns':", "separator", '"x": 1', "--- ***", "{}"])
def test_debris_and_empty_descriptions_fail_with_a_reason(separator):
    gate = check(params={"text": "The text to convert.", "separator": separator})
    assert not gate.passed
    assert any("`separator`" in reason and "says nothing" in reason for reason in gate.reasons)


def test_a_summary_cut_at_the_limit_and_a_missing_return_fail():
    gate = check(summary="x" * 160, returns="")
    assert not gate.passed
    assert any("cut off at 160" in r for r in gate.reasons) and any("return value" in r for r in gate.reasons)
