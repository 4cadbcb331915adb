"""The one layer every front end uses (DESIGN.md §3): the resolved configuration, one run queue on
one event loop, snapshots, per-job settings and the edit plan. CLI, LSP and MCP only translate."""
