"""What a documentation candidate says, independent of the language and style it is rendered in.

Writers return a `DocContent` (as JSON, decoded under a schema built from the symbol's `DocFacts`);
renderers turn it into a Python docstring (Google/NumPy/reST) or a doc comment (JSDoc, GoDoc,
rustdoc); gates check the rendered text against the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocFacts:
    """Deterministic facts about the target, found by analysis (libcst / tree-sitter)."""

    name: str
    kind: str  # function | method | class
    language: str
    params: tuple[str, ...] = ()  # documented parameters, in order (self/cls/receiver excluded)
    returns_value: bool = False  # the body returns a value (Python: `return expr`, not bare/None)
    raises: tuple[str, ...] = ()  # exception types the body raises, e.g. ("ValueError",)
    existing_doc: str | None = None  # current docstring / doc comment text, cleaned
    signature: str = ""  # the definition line(s), for the prompt


@dataclass
class DocContent:
    summary: str
    description: str = ""
    params: dict[str, str] = field(default_factory=dict)  # name -> description, in facts order
    returns: str = ""
    raises: dict[str, str] = field(default_factory=dict)  # exception type -> when it is raised
    # The writer's proposals, run in the sandbox: example calls, and a call per exception that raises it.
    example_calls: list[str] = field(default_factory=list)
    raise_calls: dict[str, str] = field(default_factory=dict)
    # What the docstring shows: (call, the result the sandbox printed), each verified as a doctest.
    examples: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Any) -> "DocContent":
        """Build from decoded model JSON; tolerant of missing keys, strict about types."""
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")

        def text(key: str) -> str:
            value = data.get(key, "")
            return value.strip() if isinstance(value, str) else ""

        def mapping(key: str) -> dict[str, str]:
            value = data.get(key) or {}
            if isinstance(value, list):  # [{"name": .., "description": ..}] also accepted
                value = {str(v.get("name", "")): v.get("description", "") for v in value if isinstance(v, dict)}
            if not isinstance(value, dict):
                return {}
            return {str(k).strip(): str(v).strip() for k, v in value.items() if str(k).strip()}

        calls = data.get("examples") or []
        return cls(
            summary=text("summary"),
            description=text("description"),
            params=mapping("params"),
            returns=text("returns"),
            raises=mapping("raises"),
            example_calls=[c.strip() for c in calls if isinstance(c, str) and c.strip()] if isinstance(calls, list) else [],
            raise_calls=mapping("raise_examples"),
        )
