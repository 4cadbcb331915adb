-- The :Swarm* commands exist as soon as the plugin is on the runtimepath; the server is
-- registered by require("swarm_lsp").setup().
if vim.g.loaded_swarm_lsp or vim.fn.has("nvim-0.10") == 0 then
  return
end
vim.g.loaded_swarm_lsp = 1
require("swarm_lsp.commands").create()
