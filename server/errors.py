"""One mapping from the product's errors (swarm/errors.py) to what each front end reports: a CLI
exit code, an LSP error response, an MCP tool error. An `InputError` is the user's to fix (exit 2,
`InvalidParams`); a `Busy` server refused a request for now (LSP `RequestFailed`, -32803); any other
`SwarmLspError` is a failure (exit 1, `InternalError` with its message)."""

from __future__ import annotations

from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams

from swarm_lsp.swarm.errors import Busy, InputError, SwarmLspError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def exit_code(error: SwarmLspError) -> int:
    return EXIT_USAGE if isinstance(error, InputError) else EXIT_REJECTED


class JsonRpcRequestFailed(JsonRpcException):
    """LSP's RequestFailed: a well-formed request the server could not carry out (pygls has no class)."""

    CODE = -32803
    MESSAGE = "Request Failed"


def lsp_error(error: SwarmLspError) -> JsonRpcException:
    if isinstance(error, InputError):
        return JsonRpcInvalidParams(str(error))
    if isinstance(error, Busy):
        return JsonRpcRequestFailed(str(error))
    return JsonRpcInternalError(str(error))


def tool_error_message(error: SwarmLspError) -> str:
    """The text of an MCP tool error (the SDK marks the result `isError`)."""
    return str(error) if isinstance(error, (InputError, Busy)) else f"swarm-lsp failed: {error}"
