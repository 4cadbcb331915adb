-- Which swarm-lsp executable serves a workspace: the `cmd` option, else the workspace's
-- .venv, else swarm-lsp on PATH.
local M = {}

local VENV_CANDIDATES = {
  { ".venv", "bin", "swarm-lsp" },
  { ".venv", "Scripts", "swarm-lsp.exe" },
}

M.NOT_FOUND = "no swarm-lsp executable found (looked for the cmd option, .venv/bin/swarm-lsp "
  .. "in the workspace root and swarm-lsp on PATH)"

---@param cmd string|string[]|nil the `cmd` option: an executable, or a full command line
---@return string[]
local function from_option(cmd)
  if type(cmd) == "string" then
    return { vim.fn.expand(cmd), "--stdio" }
  end
  local copy = vim.deepcopy(cmd)
  copy[1] = vim.fn.expand(copy[1])
  return copy
end

--- The command line starting the server for `root`, and where it was found; nil and a message
--- saying what to do when there is none.
---@param cmd_option string|string[]|nil
---@param root string|nil
---@return string[]|nil cmd, string source_or_error
function M.resolve(cmd_option, root)
  if cmd_option ~= nil then
    local cmd = from_option(cmd_option)
    if vim.fn.executable(cmd[1]) == 1 then
      return cmd, "the cmd option"
    end
    return nil, ("the cmd option names %s, which is not an executable file"):format(cmd[1])
  end
  if root then
    for _, parts in ipairs(VENV_CANDIDATES) do
      local path = vim.fs.joinpath(root, unpack(parts))
      if vim.fn.executable(path) == 1 then
        return { path, "--stdio" }, "the workspace's .venv"
      end
    end
  end
  local on_path = vim.fn.exepath("swarm-lsp")
  if on_path ~= "" then
    return { on_path, "--stdio" }, "PATH"
  end
  return nil, M.NOT_FOUND
end

return M
