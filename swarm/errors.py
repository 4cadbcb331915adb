"""The root of every error swarm-lsp raises on purpose, so each front end maps them in one place
(server/errors.py): an `InputError` is the user's to fix (CLI exit 2, LSP `InvalidParams`, an MCP
tool error naming the argument); any other `SwarmLspError` is a failure the product reports."""

from __future__ import annotations


class SwarmLspError(Exception):
    """Base of the product's own errors."""


class InputError(SwarmLspError, ValueError):
    """Bad input: an argument, a setting, a target that cannot be served. The message says which
    and what would have been accepted."""
