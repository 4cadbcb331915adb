"""The root of every error swarm-lsp raises on purpose, so each front end maps them in one place
(server/errors.py): an `InputError` is the user's to fix (CLI exit 2, LSP `InvalidParams`, an MCP
tool error naming the argument); a `Busy` is a request refused for now (LSP `RequestFailed`, an MCP
tool error that says to try again); any other `SwarmLspError` is a failure the product reports."""

from __future__ import annotations


class SwarmLspError(Exception):
    """Base of the product's own errors."""


class InputError(SwarmLspError, ValueError):
    """Bad input: an argument, a setting, a target that cannot be served. The message says which
    and what would have been accepted."""


class Busy(SwarmLspError):
    """A well-formed request refused because the server is at a limit (its queue is full): nothing
    ran, and the same request can succeed later. The message says which limit."""
