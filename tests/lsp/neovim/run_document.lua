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
  local wanted = vim.env.ACTION_KIND or "source.swarm.document"
  local command
  for _, action in ipairs(actions) do
    if action.kind == wanted then command = action.command end
  end
  local done = client:request_sync("workspace/executeCommand",
    { command = command.command, arguments = command.arguments }, 500000, 0)  -- a hang guard
  out.summary = done and done.result
  out.error = done and done.err or (done == nil and "no answer within 500 s") or nil
  out.buffer = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  out.changedtick = vim.b.changedtick
  out.other_buffers = {}  -- buffers the edit created or changed besides the current one (a test module)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    local name = vim.api.nvim_buf_get_name(buf)
    if buf ~= vim.api.nvim_get_current_buf() and name ~= "" then
      out.other_buffers[name] = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
    end
  end
end
io.stdout:write(vim.json.encode(out) .. "\n")
vim.cmd("qa!")
