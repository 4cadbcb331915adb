"""Replacing one definition with a rewritten one: helpers, imports, methods, and the gates."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.codemods.replace_definition import (
    ReplacementError, changes_outside, replace_definition, signature_changes,
)

SOURCE = '''import os


def keep():
    return 1


class Box:
    """A box."""

    def size(self, a, b=2):
        total = 0
        for x in [a, b]:
            total = total + x
        return total

    def other(self):
        return 3
'''


def test_a_method_is_replaced_with_a_helper_and_imports_added():
    code = "import math\nfrom os import path\n\ndef _add(a, b):\n    return a + b\n\ndef size(self, a, b=2):\n    return _add(a, b)\n"
    result = replace_definition(SOURCE, "Box.size", 11, code)
    assert result.text.startswith("import os\nimport math\nfrom os import path\n\n\ndef keep():")
    assert "\n\n\ndef _add(a, b):\n    return a + b\n\n\nclass Box:" in result.text
    assert '    def size(self, a, b=2):\n        return _add(a, b)\n\n    def other(self):' in result.text
    assert result.helpers == ["_add"] and result.imports == ["import math", "from os import path"]
    assert signature_changes(result.old_definition, result.new_definition) == []
    assert changes_outside(SOURCE, result, "Box.size") == []


def test_the_method_may_come_wrapped_in_its_class():
    code = "class Box:\n    def size(self, a, b=2):\n        return a + b\n"
    result = replace_definition(SOURCE, "Box.size", 11, code)
    assert "        return a + b\n\n    def other(self):" in result.text and result.helpers == []


def test_signature_changes_are_named():
    result = replace_definition(SOURCE, "Box.size", 11, "async def size(self, a, c=2):\n    return a\n")
    changes = signature_changes(result.old_definition, result.new_definition)
    assert changes == ["the parameters changed from (self, a, b=2) to (self, a, c=2)", "async-ness changed"]


def test_edits_outside_the_target_are_detected():
    result = replace_definition(SOURCE, "keep", 4, "def keep():\n    return 2\n")
    assert changes_outside(SOURCE, result, "keep") == []
    tampered = type(result)(result.text.replace("return 3", "return 4"), result.new_definition,
                            result.old_definition, result.helpers, result.imports, result.line)
    assert changes_outside(SOURCE, tampered, "keep") == ["code outside the target changed: class Box:"]


@pytest.mark.parametrize("code, message", [
    ("def other():\n    pass\n", "does not define `size`"),
    ("def size(self:\n", "does not parse"),
    ("def keep():\n    pass\n\ndef size(self, a, b=2):\n    pass\n", "would replace existing definitions"),
])
def test_replies_that_cannot_replace_the_target_are_explained(code, message):
    with pytest.raises(ReplacementError, match=message):
        replace_definition(SOURCE, "Box.size", 11, code)
