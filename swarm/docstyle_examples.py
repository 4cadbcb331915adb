"""The Examples section of a Python docstring, in the project's style (doctest blocks)."""

from __future__ import annotations


def example_lines(style: str, examples: list[tuple[str, str]]) -> list[str]:
    """`>>> call` / result pairs under the style's title: `Examples:` (Google, indented), an
    underlined `Examples` (NumPy), a plain doctest block (reST, where fields end the docstring)."""
    if not examples:
        return []
    block = [line for call, result in examples for line in (f">>> {call}", result)]
    if style == "google":
        return ["Examples:", *(f"    {line}" for line in block)]
    if style == "numpy":
        return ["Examples", "--------", *block]
    return block
