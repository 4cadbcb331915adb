-- The user commands. Each finds the server's code action of its kind at the cursor and runs its
-- command: which symbols, languages and presets exist is the server's to say.
local lsp = require("swarm_lsp.lsp")
local summary = require("swarm_lsp.summary")

local M = {}

local levels = vim.log.levels

M.KINDS = {
  document = "source.swarm.document",
  tests = "source.swarm.tests",
  refactor = "refactor.rewrite.swarm",
  audit = "source.swarm.audit",
}

local function show(text, level)
  lsp.notify(text, level)
end

--- Run a code action's `swarm.run` command and show its answer.
function M.run(client, bufnr, action)
  lsp.execute(client, bufnr, action.command, function(err, answer)
    if err then
      return show(summary.error(err))
    end
    show(summary.run(answer))
  end)
end

--- Call `with(client, bufnr, actions)` with the server's actions of `name` at the cursor.
local function at_cursor(name, with)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client_for(bufnr)
  if not client then
    return
  end
  lsp.code_actions(client, bufnr, M.KINDS[name], function(actions)
    if #actions == 0 then
      return show(("swarm-lsp: no %s action at the cursor: it is not inside a function, method or class, "
        .. "or swarm-lsp does not offer it for %s files"):format(name, vim.bo[bufnr].filetype), levels.WARN)
    end
    with(client, bufnr, actions)
  end)
end

local function run_first(name)
  at_cursor(name, function(client, bufnr, actions)
    M.run(client, bufnr, actions[1])
  end)
end

function M.document()
  run_first("document")
end

function M.tests()
  run_first("tests")
end

local function preset_of(action)
  local arguments = action.command and action.command.arguments and action.command.arguments[1] or {}
  return (arguments.options or {}).preset
end

local INSTRUCTION_ITEM = { title = "Another change: write an instruction" }

--- Refactor with a preset named by `instruction`, with `instruction` itself, or with what the
--- user picks (vim.ui.select over the server's presets) or types (vim.ui.input).
function M.refactor(instruction)
  at_cursor("refactor", function(client, bufnr, actions)
    local symbol = actions[1].command.arguments[1].symbol
    local function with_instruction(text)
      text = vim.trim(text or "")
      if text == "" then
        return
      end
      local action = vim.deepcopy(actions[1])
      action.command.arguments[1].options = { instruction = text }  -- the refactor's option, per swarm.run
      M.run(client, bufnr, action)
    end
    if instruction and vim.trim(instruction) ~= "" then
      for _, action in ipairs(actions) do
        if preset_of(action) == vim.trim(instruction) then
          return M.run(client, bufnr, action)
        end
      end
      return with_instruction(instruction)
    end
    local items = vim.list_extend(vim.list_extend({}, actions), { INSTRUCTION_ITEM })
    vim.ui.select(items, {
      prompt = ("Refactor %s:"):format(symbol),
      kind = "swarm_lsp.refactor",
      format_item = function(item)
        return preset_of(item) or item.title
      end,
    }, function(choice)
      if choice == INSTRUCTION_ITEM then
        vim.ui.input({ prompt = ("Refactor %s: "):format(symbol) }, with_instruction)
      elseif choice then
        M.run(client, bufnr, choice)
      end
    end)
  end)
end

--- The preset names the server offers for the symbol under the cursor.
function M.complete_refactor(arglead, cmdline)
  local client = vim.lsp.get_clients({ bufnr = 0, name = lsp.NAME })[1]
  local typed = cmdline:match("^%s*%S+%s+(.*)$") or ""
  if not client or typed:find("%s") then  -- a preset is one word: this is an instruction
    return {}
  end
  local presets = {}
  for _, action in ipairs(lsp.code_actions_sync(client, 0, M.KINDS.refactor)) do
    local preset = preset_of(action)
    if preset and vim.startswith(preset, arglead) then
      table.insert(presets, preset)
    end
  end
  return presets
end

-- A file given to :SwarmAudit is loaded in a hidden buffer; the server audits what it has open.
local function load(path)
  local bufnr = vim.fn.bufadd(vim.fn.fnamemodify(path, ":p"))
  vim.fn.bufload(bufnr)
  vim.bo[bufnr].buflisted = true
  return bufnr
end

local function audit_buffer(client, bufnr)
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":~:.")
  local command = { command = "swarm.audit", arguments = { { uri = vim.uri_from_bufnr(bufnr) } } }
  lsp.execute(client, bufnr, command, function(err, answer)
    if err then
      return show(summary.error(err))
    end
    show(summary.audit(answer, name))
  end)
end

--- :SwarmAudit [file]: the deterministic audit of a whole file, published as diagnostics.
--- :SwarmAudit!: the swarm's audit action on the symbol under the cursor.
function M.audit(file, bang)
  if bang then
    return run_first("audit")
  end
  if not file or file == "" then
    local client = lsp.client_for(vim.api.nvim_get_current_buf())
    return client and audit_buffer(client, vim.api.nvim_get_current_buf())
  end
  if vim.fn.filereadable(vim.fn.expand(file)) == 0 then
    return show("swarm-lsp: cannot read " .. file, levels.ERROR)
  end
  local bufnr = load(vim.fn.expand(file))
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = lsp.NAME })[1]
  if client then
    return audit_buffer(client, bufnr)
  end
  if not vim.tbl_contains(require("swarm_lsp").options.filetypes, vim.bo[bufnr].filetype) then
    return lsp.client_for(bufnr)  -- says why there is no server for it
  end
  -- The server starts or attaches for the new buffer asynchronously.
  vim.api.nvim_create_autocmd("LspAttach", {
    buffer = bufnr,
    callback = function(event)
      local attached = vim.lsp.get_client_by_id(event.data.client_id)
      if attached and attached.name == lsp.NAME then
        audit_buffer(attached, bufnr)
        return true  -- once
      end
    end,
  })
end

local function active_jobs(status)
  return vim.list_extend(vim.list_extend({}, status.running or {}), status.queued or {})
end

local function server_command(command, arguments, on_result)
  local client = lsp.any_client()
  if not client then
    return show("swarm-lsp: no swarm-lsp server is running (open a file it serves first)", levels.WARN)
  end
  lsp.execute(client, 0, { command = command, arguments = arguments }, function(err, result)
    if err then
      return show(summary.error(err))
    end
    on_result(result)
  end)
end

local function cancel_job(id)
  server_command("swarm.cancel", { id }, function(answer)
    if answer.cancelled then
      show(("swarm-lsp: cancelling %s"):format(id), levels.INFO)
    else
      show(("swarm-lsp: %s is not running or queued"):format(id), levels.WARN)
    end
  end)
end

--- :SwarmCancel [job]: that job, else every job this editor started that runs or waits.
function M.cancel(job_id)
  if job_id and job_id ~= "" then
    return cancel_job(job_id)
  end
  server_command("swarm.status", nil, function(status)
    local jobs = vim.tbl_filter(function(job)
      return job.origin == "lsp"
    end, active_jobs(status))
    if #jobs == 0 then
      return show("swarm-lsp: no swarm job to cancel", levels.INFO)
    end
    for _, job in ipairs(jobs) do
      cancel_job(job.id)
    end
  end)
end

function M.complete_cancel(arglead)
  local client = lsp.any_client()
  local status = client and lsp.execute_sync(client, "swarm.status", nil)
  local ids = {}
  for _, job in ipairs(status and active_jobs(status) or {}) do
    if vim.startswith(job.id, arglead) then
      table.insert(ids, job.id)
    end
  end
  return ids
end

function M.status()
  server_command("swarm.status", nil, function(status)
    show(summary.status(status))
  end)
end

function M.report()
  server_command("swarm.report", nil, function(report)
    show(summary.report(report))
  end)
end

--- Define the user commands (again: it is idempotent).
function M.create()
  local create = vim.api.nvim_create_user_command
  create("SwarmDocument", M.document, { desc = "swarm-lsp: document the symbol under the cursor" })
  create("SwarmTests", M.tests, { desc = "swarm-lsp: generate tests for the symbol under the cursor" })
  create("SwarmRefactor", function(opts)
    M.refactor(opts.args)
  end, { nargs = "*", complete = M.complete_refactor, desc = "swarm-lsp: refactor the symbol under the cursor" })
  create("SwarmAudit", function(opts)
    M.audit(opts.args, opts.bang)
  end, { nargs = "?", bang = true, complete = "file", desc = "swarm-lsp: audit a file (!: the symbol, with the swarm)" })
  create("SwarmCancel", function(opts)
    M.cancel(opts.args)
  end, { nargs = "?", complete = M.complete_cancel, desc = "swarm-lsp: cancel swarm jobs" })
  create("SwarmStatus", M.status, { desc = "swarm-lsp: running and queued swarm jobs" })
  create("SwarmReport", M.report, { desc = "swarm-lsp: token totals from the ledger" })
end

return M
