"""Prompts for the refactor action: presets, the writer's brief and what reviewers see."""

from __future__ import annotations

from swarm_lsp.swarm.backends.base import Message

PRESETS = {
    "simplify": "Simplify the code: remove redundancy, flatten nesting, use clearer constructs. Keep the behaviour.",
    "extract-helper": "Extract a self-contained part of the body into a new, well-named helper function "
                      "defined next to it, and call the helper. Keep the behaviour.",
    "modernise-types": "Add or modernise type annotations (PEP 604 unions such as `int | None`, built-in "
                       "generics such as `list[str]`). Do not change the logic.",
    "rename-locals": "Give local variables clear, descriptive names. Do not rename the function, its "
                     "parameters or anything outside it.",
}
# Words that mean the instruction itself asks for a different signature.
SIGNATURE_WORDS = ("signature", "parameter", "argument", "rename the function", "rename the method")

SYSTEM = (
    "You refactor Python code. Reply with one ```python code block holding the complete new definition "
    "of the target, plus any new helper functions and the imports they need, and nothing else. Keep the "
    "behaviour exactly: the same results and exceptions for every input. Keep the name, parameters, "
    "defaults and decorators unless the instruction says to change them. Do not include unchanged code "
    "from elsewhere in the file."
)

REVIEW_FOCUSES = [
    "Does the new code behave exactly like the old code for every input, including errors? Approve only if it does.",
    "Does the new code do what the instruction asks? Approve only if it does.",
]


def writer_messages(qualname: str, path: str, source: str, instruction: str, feedback: list[str]) -> list[Message]:
    lines = [
        f"Refactor `{qualname}` in {path}.", "", f"Instruction: {instruction}", "",
        "Current code:", "```python", source, "```",
    ]
    if feedback:
        lines += ["", "Your previous answer was not accepted:"] + [f"- {item}" for item in feedback[:6]]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def review_material(qualname: str, instruction: str, old: str, new: str, gates: list[str]) -> str:
    return "\n".join([
        f"Refactor of `{qualname}`. Instruction: {instruction}",
        "Old code:", "```python", old, "```", "New code:", "```python", new, "```",
        f"Passed checks: {', '.join(gates)} (the tests that exercise it pass before and after).",
    ])
