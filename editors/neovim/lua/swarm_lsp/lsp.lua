-- The plugin's side of the protocol: the client of a buffer, swarm code actions at the cursor,
-- and `workspace/executeCommand` whose answer is shown once.
local M = {}

M.NAME = "swarm_lsp"

local levels = vim.log.levels
local has_011 = vim.fn.has("nvim-0.11") == 1

-- Method calls on a client: `client:request()` on 0.11, `client.request()` on 0.10.
local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function request_sync(client, method, params, timeout_ms, bufnr)
  if has_011 then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

--- A notification to the server.
function M.send(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.notify(message, level)
  vim.notify(message, level or levels.INFO, { title = "swarm-lsp" })
end

local function get_clients(filter)
  filter.name = M.NAME
  return vim.lsp.get_clients(filter)
end

--- The swarm-lsp client attached to `bufnr`; nil (after telling the user why) when there is none.
function M.client_for(bufnr)
  local client = get_clients({ bufnr = bufnr })[1]
  if client then
    return client
  end
  if not require("swarm_lsp").configured then
    M.notify('swarm-lsp: not set up: call require("swarm_lsp").setup() (see :help swarm_lsp-setup)', levels.ERROR)
  else
    M.notify(("swarm-lsp: no swarm-lsp server is attached to this buffer (filetype %q); see :checkhealth swarm_lsp")
      :format(vim.bo[bufnr].filetype), levels.ERROR)
  end
end

--- The client of the current buffer, else any running swarm-lsp client (for status, cancel, report).
function M.any_client()
  return get_clients({ bufnr = 0 })[1] or get_clients({})[1]
end

-- window/showMessage: the server shows each swarm.run summary and each error it answers with.
-- While a request of ours is in flight its messages are held, and the one repeating the answer
-- we notify ourselves is dropped; any other message is passed on through vim.notify.
local held = {} ---@type table<integer, {pending: integer, messages: lsp.ShowMessageParams[]}>

local MESSAGE_LEVELS = { [1] = levels.ERROR, [2] = levels.WARN, [3] = levels.INFO, [4] = levels.DEBUG }

local function show(params)
  M.notify(params.message, MESSAGE_LEVELS[params.type] or levels.INFO)
end

function M.show_message(_, params, ctx)
  local slot = held[ctx.client_id]
  if slot and slot.pending > 0 then
    table.insert(slot.messages, params)
    return
  end
  show(params)
end

local function hold(client_id)
  held[client_id] = held[client_id] or { pending = 0, messages = {} }
  held[client_id].pending = held[client_id].pending + 1
end

local function release(client_id, echoed)
  local slot = held[client_id]
  for i, params in ipairs(slot.messages) do
    if params.message == echoed then
      table.remove(slot.messages, i)
      break
    end
  end
  slot.pending = slot.pending - 1
  if slot.pending == 0 then
    local messages = slot.messages
    slot.messages = {}
    vim.tbl_map(show, messages)
  end
end

--- Run a server command; `on_answer(err, result)` gets the answer, shown to the user by the
--- caller instead of the server's own copy of it.
---@param command lsp.Command
function M.execute(client, bufnr, command, on_answer)
  hold(client.id)
  local ok = request(client, "workspace/executeCommand",
    { command = command.command, arguments = command.arguments }, function(err, result)
      local text = err and err.message or (type(result) == "table" and result.message) or nil
      release(client.id, text and ("swarm-lsp: " .. text) or nil)
      on_answer(err, result)
    end, bufnr)
  if not ok then
    release(client.id, nil)
    on_answer({ message = "the swarm-lsp server is not running" }, nil)
  end
end

--- A command answered synchronously (for completion): the result, or nil.
function M.execute_sync(client, command, arguments, timeout_ms)
  local answer = request_sync(client, "workspace/executeCommand",
    { command = command, arguments = arguments }, timeout_ms or 2000, 0)
  return answer and answer.result
end

local function code_action_params(client, kinds)
  local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
  params.context = { only = kinds, diagnostics = {} }
  return params
end

local function of_kind(actions, kind)
  return vim.tbl_filter(function(action)
    return action.kind == kind and action.command ~= nil
  end, actions or {})
end

--- The server's code actions of `kind` for the symbol under the cursor (commands, not edits).
function M.code_actions(client, bufnr, kind, on_actions)
  request(client, "textDocument/codeAction", code_action_params(client, { kind }), function(err, actions)
    if err then
      M.notify("swarm-lsp: " .. err.message, levels.ERROR)
      return
    end
    on_actions(of_kind(actions, kind))
  end, bufnr)
end

function M.code_actions_sync(client, bufnr, kind, timeout_ms)
  local answer = request_sync(client, "textDocument/codeAction",
    code_action_params(client, { kind }), timeout_ms or 1000, bufnr)
  return of_kind(answer and answer.result, kind)
end

return M
