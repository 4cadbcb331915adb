-- Headless Neovim: open a file, list code actions at a line, run the swarm action and let Neovim
-- apply the server's versioned edit itself. Prints one JSON line for the test to read.
local path, line = vim.env.TARGET_FILE, tonumber(vim.env.TARGET_LINE)
vim.cmd("edit " .. path)
vim.wait(10000, function() return #vim.lsp.get_clients({ bufnr = 0 }) > 0 end)
local client = vim.lsp.get_clients({ bufnr = 0 })[1]
vim.api.nvim_win_set_cursor(0, { line, 4 })
local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
params.context = { diagnostics = {} }
local actions = client:request_sync("textDocument/codeAction", params, 5000, 0).result
local out = { actions = actions }
if vim.env.RUN_ACTION == "1" then
  local command = actions[1].command
  local done = client:request_sync("workspace/executeCommand",
    { command = command.command, arguments = command.arguments }, 120000, 0)
  out.summary = done and done.result
  out.buffer = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  out.changedtick = vim.b.changedtick
end
io.stdout:write(vim.json.encode(out) .. "\n")
vim.cmd("qa!")
