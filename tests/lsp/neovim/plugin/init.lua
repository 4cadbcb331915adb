-- The plugin installed as a package (PACK_ROOT/pack/swarm/opt/swarm_lsp) and loaded with
-- :packadd, set up with the options the test passes. What it tells the user (vim.notify) and
-- the LSP progress Neovim receives are recorded for the scenario's result.
if vim.env.SIMULATE_NVIM_010 == "1" then  -- the plugin's Neovim 0.10 path, on this 0.11
  local has = vim.fn.has
  vim.fn.has = function(feature)
    return feature == "nvim-0.11" and 0 or has(feature)
  end
end

vim.opt.packpath:prepend(vim.env.PACK_ROOT)
vim.cmd("packadd swarm_lsp")

_G.recorded = { notes = {}, progress = {} }

vim.notify = function(message, level)
  table.insert(_G.recorded.notes, { message = message, level = level or vim.log.levels.INFO })
end

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(event)
    local params = event.data.params
    table.insert(_G.recorded.progress, {
      token = params.token, kind = params.value.kind, title = params.value.title, message = params.value.message,
      status = vim.lsp.status(),  -- what a statusline would show
    })
  end,
})

local options = vim.env.SETUP_OPTIONS and vim.json.decode(vim.env.SETUP_OPTIONS) or {}
require("swarm_lsp").setup(options)
