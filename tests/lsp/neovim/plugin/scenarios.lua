-- One scenario per run (SCENARIO), driving the plugin's commands in headless Neovim like a user.
-- The result (what was recorded plus the scenario's own findings) goes to RESULT_FILE as JSON.
local GUARD_MS = tonumber(vim.env.GUARD_MS or "30000")  -- hang guard for each wait, not a measurement
local workspace = vim.env.WORKSPACE
local out = {}

local function finish()
  out.notes = _G.recorded.notes
  out.progress = _G.recorded.progress
  local file = assert(io.open(vim.env.RESULT_FILE, "w"))
  file:write(vim.json.encode(out))
  file:close()
  vim.cmd("qa!")
end

local function swarm_client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = "swarm_lsp" })[1]
end

--- Open a workspace file with the cursor at (1-based line, 0-based column); wait for the server
--- unless `no_server` (no executable: nothing will attach, and waiting would only run out the guard).
local function open(name, line, col, no_server)
  vim.cmd.edit(vim.fs.joinpath(workspace, name))
  out.attached = no_server ~= true and vim.wait(GUARD_MS, function()
    local client = swarm_client()
    return client ~= nil and client.initialized == true
  end, 20)
  vim.api.nvim_win_set_cursor(0, { line or 1, col or 0 })
end

local function notes_count()
  return #_G.recorded.notes
end

--- Wait until `n` notifications have arrived in all.
local function wait_notes(n)
  vim.wait(GUARD_MS, function()
    return notes_count() >= n
  end, 20)
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false), "\n")
end

--- Replace commands.run (the one place that executes a swarm.run) to record what it would run.
local function record_runs()
  local commands = require("swarm_lsp.commands")
  out.runs = {}
  commands.run = function(_, _, action)
    table.insert(out.runs, { title = action.title, arguments = action.command.arguments[1] })
  end
end

local scenarios = {}

function scenarios.idle_status_and_cancel()
  open("textutils.py", 7)
  vim.cmd("SwarmStatus")
  wait_notes(1)
  vim.cmd("SwarmCancel")
  wait_notes(2)
  vim.cmd("SwarmReport")
  wait_notes(3)
end

function scenarios.audit()
  open("textutils.py", 7)
  vim.cmd("SwarmAudit")
  wait_notes(1)
  vim.cmd("SwarmAudit runner.py")  -- not open yet: loaded in a hidden buffer, then audited
  wait_notes(2)
  local runner = vim.fn.bufnr(vim.fs.joinpath(workspace, "runner.py"))
  out.current = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ":t")
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(runner)) do
    table.insert(out.diagnostics, { lnum = d.lnum, code = d.code, source = d.source, severity = d.severity,
      message = d.message })
  end
end

function scenarios.refactor_flow()
  open("textutils.py", 9, 4)
  record_runs()
  local answers = { "Another change: write an instruction", "simplify" }
  out.selects, out.inputs = {}, {}
  vim.ui.select = function(items, opts, on_choice)
    local shown = vim.tbl_map(opts.format_item, items)
    table.insert(out.selects, { prompt = opts.prompt, items = shown })
    local wanted = table.remove(answers, 1)
    for i, label in ipairs(shown) do
      if label == wanted then
        return on_choice(items[i], i)
      end
    end
    on_choice(nil, nil)
  end
  vim.ui.input = function(opts, on_confirm)
    table.insert(out.inputs, opts.prompt)
    on_confirm("  replace the regular expression with a loop  ")
  end
  local function refactor(command)
    local before = #out.runs
    vim.cmd(command)
    vim.wait(GUARD_MS, function()
      return #out.runs > before or #out.selects > 2
    end, 20)
  end
  refactor("SwarmRefactor")  -- select: the instruction entry, then input
  refactor("SwarmRefactor")  -- select: a preset
  refactor("SwarmRefactor rename-locals")  -- a preset by name
  refactor("SwarmRefactor extract the ascii folding into a helper")  -- an instruction
  vim.cmd("SwarmRefactor")  -- select: dismissed
  vim.wait(GUARD_MS, function()
    return #out.selects == 3
  end, 20)
end

function scenarios.actions_at_cursor()
  open("textutils.py", 35, 8)  -- in Truncator.truncate
  record_runs()
  for _, command in ipairs({ "SwarmDocument", "SwarmTests", "SwarmAudit!" }) do
    local before = #out.runs
    vim.cmd(command)
    vim.wait(GUARD_MS, function()
      return #out.runs > before
    end, 20)
  end
end

function scenarios.completion()
  open("textutils.py", 9, 4)
  out.commands = vim.fn.getcompletion("Swarm", "command")
  out.refactor = vim.fn.getcompletion("SwarmRefactor ", "cmdline")
  out.refactor_s = vim.fn.getcompletion("SwarmRefactor s", "cmdline")
  out.refactor_instruction = vim.fn.getcompletion("SwarmRefactor make it ", "cmdline")
  out.audit = vim.fn.getcompletion("SwarmAudit text", "cmdline")
  out.cancel = vim.fn.getcompletion("SwarmCancel ", "cmdline")
  vim.api.nvim_win_set_cursor(0, { 1, 0 })  -- the module docstring: no symbol
  out.refactor_outside = vim.fn.getcompletion("SwarmRefactor ", "cmdline")
end

function scenarios.run_and_wait()  -- the command in RUN_COMMAND at LINE; waits for its answer
  open(vim.env.FILE or "textutils.py", tonumber(vim.env.LINE), 4)
  vim.cmd(vim.env.RUN_COMMAND)
  wait_notes(1)
  out.buffer = buffer_text()
  out.modified = vim.bo.modified
end

function scenarios.errors()
  open("textutils.py", 1)  -- no symbol on the module docstring
  vim.cmd("SwarmDocument")
  wait_notes(1)
  vim.api.nvim_win_set_cursor(0, { 9, 4 })
  local client = swarm_client()
  require("swarm_lsp.commands").run(client, 0, { command = {  -- a target the file does not define
    command = "swarm.run",
    arguments = { { action = "document", uri = vim.uri_from_bufnr(0), symbol = "no_such_function" } },
  } })
  wait_notes(2)
  vim.cmd("SwarmAudit notes.js")  -- the file audit is Python's
  wait_notes(3)
  open("notes.js", 1, 9)
  vim.cmd("SwarmTests")  -- tests are offered for Python only
  wait_notes(4)
end

function scenarios.cancel_running()
  open("textutils.py", 9, 4)
  vim.cmd("SwarmDocument")
  local client = swarm_client()
  vim.wait(GUARD_MS, function()
    local status = require("swarm_lsp.lsp").execute_sync(client, "swarm.status", nil)
    return status ~= nil and #status.running > 0
  end, 50)
  vim.cmd("SwarmStatus")
  wait_notes(1)
  out.cancel_completion = vim.fn.getcompletion("SwarmCancel ", "cmdline")
  vim.cmd("SwarmCancel")
  wait_notes(3)  -- "cancelling job-1", then the run's own answer
end

function scenarios.registered_with_vim_lsp_start()
  open("textutils.py", 9, 4)
  local client = swarm_client()
  out.enabled_with_vim_lsp_config = vim.lsp.is_enabled("swarm_lsp")
  out.cmd = client.config.cmd
  out.root_dir = client.root_dir
  out.refactor_completion = vim.fn.getcompletion("SwarmRefactor ", "cmdline")
  vim.cmd("SwarmStatus")
  wait_notes(1)
  vim.cmd("SwarmAudit runner.py")
  wait_notes(2)
  out.runner_diagnostics = #vim.diagnostic.get(vim.fn.bufnr(vim.fs.joinpath(workspace, "runner.py")))
  -- setup() again: the running server gets the new settings
  local options = vim.json.decode(vim.env.SETUP_OPTIONS)
  options.settings = { tiers = { "ollama:qwen2.5-coder:0.5b" } }
  require("swarm_lsp").setup(options)
  vim.cmd("SwarmDocument")
  wait_notes(3)
  out.clients = #vim.lsp.get_clients({ name = "swarm_lsp" })
end

function scenarios.summary_levels()  -- answers shaped as server/lsp/runner.py's _summary makes them
  local summary = require("swarm_lsp.summary")
  local usage = { local_tokens = 120, cloud_tokens = 0, by_model = {} }
  local function answer(status, applied, message, evidence)
    return { job = "job-1", status = status, applied = applied, tier = "llamacpp:qwen2.5-coder-0.5b",
      message = message, usage = usage, evidence = evidence or {}, attempts = 1 }
  end
  out.levels = {}
  local function add(text, level)
    table.insert(out.levels, { text = text, level = level })
  end
  add(summary.run(answer("accepted", true, "document f: accepted from T (120 local / 0 cloud tokens, 1.0s)")))
  add(summary.run(answer("accepted", false, "document f: accepted from T (120 local / 0 cloud tokens, 1.0s); "
    .. "not applied: the target changed in the editor")))
  add(summary.run(answer("rejected", false, "document f: rejected: no candidate accepted after 1 attempts")))
  add(summary.run(answer("failed", false, "document f: failed: every model call failed")))
  add(summary.run(answer("accepted", true, "refactor f: accepted from T (...)", {
    complexity_before = 5, complexity_after = 3, tests_run = { "tests/test_m.py::test_a" }, helpers_added = { "g" } })))
  add(summary.run(answer("accepted", true, "audit f: accepted from T (...)", {
    findings = { { start_line = 5, cwe = 78, message = "shell=True" } }, by_severity = { high = 1, medium = 0, low = 0 } })))
  add(summary.error({ code = -32602, message = "unknown symbol" }))
  add(summary.error({ code = -32800, message = "Request cancelled" }))
end

function scenarios.checkhealth()
  vim.cmd("checkhealth swarm_lsp")
  out.health = buffer_text()
end

function scenarios.no_executable()
  vim.cmd("checkhealth swarm_lsp")
  out.health = buffer_text()
  open("textutils.py", 9, 4, true)
  vim.cmd("SwarmDocument")
  wait_notes(2)
end

function scenarios.help()
  vim.cmd("helptags " .. vim.fn.fnameescape(vim.env.DOC_DIR))
  out.pages = {}
  for _, tag in ipairs({ "swarm_lsp", "swarm_lsp-setup", ":SwarmRefactor", ":SwarmAudit", "swarm_lsp-health" }) do
    vim.cmd("help " .. tag)
    table.insert(out.pages, { tag = tag, file = vim.fn.expand("%:t"), line = vim.api.nvim_get_current_line() })
  end
end

local ok, err = pcall(scenarios[vim.env.SCENARIO])
if not ok then
  out.error = tostring(err)
end
finish()
