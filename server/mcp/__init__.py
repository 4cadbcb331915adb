"""The MCP server: every registered action as a tool, confined to one workspace root (DESIGN.md §8)."""
