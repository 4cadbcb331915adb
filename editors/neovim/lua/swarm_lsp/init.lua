-- swarm-lsp for Neovim: registers the language server (vim.lsp.config/enable on 0.11+,
-- vim.lsp.start from a FileType autocmd on 0.10) and the :Swarm* commands.
local executable = require("swarm_lsp.executable")
local lsp = require("swarm_lsp.lsp")

local M = {}

M.NAME = lsp.NAME
M.SETTINGS_SECTION = "swarm-lsp"  -- the server reads its settings under this key

local defaults = {
  cmd = nil,  -- string (an executable; --stdio is added) or string[] (the full command line)
  settings = {},  -- the keys of [tool.swarm-lsp], e.g. { tiers = { "llamacpp:qwen2.5-coder-0.5b" } }
  filetypes = { "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust" },
  root_markers = { "pyproject.toml", "swarm-lsp.toml", ".git" },
}

M.options = vim.deepcopy(defaults)
M.configured = false

local told = {}

local function tell_once(message)
  if not told[message] then
    told[message] = true
    lsp.notify("swarm-lsp: " .. message, vim.log.levels.ERROR)
  end
end

local function no_executable(problem)
  tell_once(problem .. '. Install swarm-lsp in the project or set cmd in require("swarm_lsp").setup(); '
    .. "see :checkhealth swarm_lsp")
end

--- The workspace root of a buffer: the nearest folder with a root marker (nil: none).
function M.root(bufnr)
  return vim.fs.root(bufnr, M.options.root_markers)
end

--- The command line for the workspace `root` (nil, and a message saying what to do, when none).
function M.command(root)
  return executable.resolve(M.options.cmd, root or vim.fn.getcwd())
end

-- Under the server's section; an empty table would be sent as a JSON list, so it is a dict.
local function sectioned_settings()
  local settings = M.options.settings or {}
  return { [M.SETTINGS_SECTION] = next(settings) and settings or vim.empty_dict() }
end

local function client_config()
  return {
    init_options = sectioned_settings(),
    handlers = { ["window/showMessage"] = lsp.show_message },
  }
end

local function register_with_config()
  local config = client_config()
  config.filetypes = M.options.filetypes
  config.root_dir = function(bufnr, on_dir)
    local root = M.root(bufnr)
    local cmd, problem = M.command(root)
    if not cmd then
      return no_executable(problem)  -- and no server for this buffer
    end
    on_dir(root)
  end
  -- The executable depends on the root (its .venv), known only when the client starts.
  config.cmd = function(dispatchers, resolved)
    local root = resolved and resolved.root_dir
    local cmd = M.command(root) or { "swarm-lsp", "--stdio" }
    return vim.lsp.rpc.start(cmd, dispatchers, {
      cwd = root,
      env = resolved and resolved.cmd_env,
      detached = resolved == nil or resolved.detached,
    })
  end
  vim.lsp.config(M.NAME, config)
  vim.lsp.enable(M.NAME)
end

local function start(bufnr)
  if vim.bo[bufnr].buftype ~= "" then
    return
  end
  local root = M.root(bufnr)
  local cmd, problem = M.command(root)
  if not cmd then
    return no_executable(problem)
  end
  local config = client_config()
  config.name, config.cmd, config.root_dir, config.cmd_cwd = M.NAME, cmd, root, root
  vim.lsp.start(config, { bufnr = bufnr })
end

local function register_with_autocmd()
  local group = vim.api.nvim_create_augroup("swarm_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.options.filetypes,
    callback = function(event)
      start(event.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do  -- buffers opened before setup()
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.options.filetypes, vim.bo[bufnr].filetype) then
      start(bufnr)
    end
  end
end

--- Configure and register the server. Calling it again applies new settings to running servers.
---@param opts? {cmd?: string|string[], settings?: table, filetypes?: string[], root_markers?: string[]}
function M.setup(opts)
  if vim.fn.has("nvim-0.10") == 0 then
    return tell_once("the Neovim plugin needs Neovim 0.10 or later")
  end
  M.options = vim.tbl_extend("force", vim.deepcopy(defaults), opts or {})
  if vim.fn.has("nvim-0.11") == 1 then
    register_with_config()
  else
    register_with_autocmd()
  end
  require("swarm_lsp.commands").create()
  if M.configured then
    for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
      lsp.send(client, "workspace/didChangeConfiguration", { settings = sectioned_settings() })
    end
  end
  M.configured = true
end

return M
