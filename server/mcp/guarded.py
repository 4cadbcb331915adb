"""`GuardedMCPServer`: the SDK's `MCPServer` whose every tool result and tool error leaves through
one `Sanitiser` (sanitise.py): paths outside the root and the home directory hidden, paths inside
shown relative, secrets redacted, sizes capped with a truncation marker. Overriding `call_tool`
covers every tool, those added later included, whatever the SDK client mode (JSON-RPC or direct)."""

from __future__ import annotations

import logging
from typing import Any

import pydantic_core
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult, TextContent

from swarm_lsp.server.mcp.sanitise import Sanitiser

log = logging.getLogger(__name__)

SANITISED_NOTE = ("; the diff shown is cut or has paths or secrets masked (`[truncated ...]`, `[REDACTED:...]`, "
                  "`<outside root>`); apply=true writes the real edit")


class GuardedMCPServer(MCPServer):
    """An `MCPServer` with a `sanitiser`; see the module docstring."""

    def __init__(self, *args: Any, sanitiser: Sanitiser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sanitiser = sanitiser

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Any, Any] | None = None) -> CallToolResult | InputRequiredResult:
        try:
            result = await super().call_tool(name, arguments, context)
        except MCPError as exc:
            raise MCPError(exc.code, self.sanitiser.error(exc.message)) from exc
        except ToolError as exc:
            if isinstance(exc, UnexpectedToolError):
                log.error("tool %r raised an unexpected exception", name, exc_info=exc.__cause__ or exc)
            else:
                log.info("tool %r failed: %r", name, str(exc))  # local log: the full text, for the user
            return self.error_result(str(exc))
        if isinstance(result, CallToolResult):
            return self.sanitise_result(result)
        return result

    def error_result(self, message: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=self.sanitiser.error(message))], is_error=True)

    def sanitise_result(self, result: CallToolResult) -> CallToolResult:
        """Structured content sanitised as data (its text block regenerated from it, as the SDK makes
        it); otherwise each text block sanitised and capped; other blocks pass unchanged."""
        if result.structured_content is not None:
            structured = self.sanitiser.value(result.structured_content)
            if isinstance(structured, dict):
                diff = result.structured_content.get("diff")
                if isinstance(diff, str) and structured.get("diff") != diff and isinstance(structured.get("message"), str):
                    structured["message"] += SANITISED_NOTE
            text = pydantic_core.to_json(structured, indent=2).decode()
            return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured,
                                  is_error=result.is_error)
        content = [TextContent(type="text", text=self.sanitiser.value(block.text))
                   if isinstance(block, TextContent) else block for block in result.content]
        return CallToolResult(content=content, is_error=result.is_error)


__all__ = ["GuardedMCPServer"]
