-- The README's Neovim 0.11 configuration, with the server command passed in by the test.
vim.lsp.config("swarm_lsp", {
  cmd = { vim.env.SWARM_LSP_BIN, "--stdio" },
  filetypes = { "python", "javascript", "typescript", "go", "rust" },
  root_markers = { "pyproject.toml", "swarm-lsp.toml", ".git" },
  init_options = { ["swarm-lsp"] = { candidates = 2 } },
})
vim.lsp.enable("swarm_lsp")
