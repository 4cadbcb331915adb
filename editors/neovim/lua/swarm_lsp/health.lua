-- :checkhealth swarm_lsp: the executable and its version, then `swarm-lsp doctor --json`
-- (embedded models, tiers, backends) for the workspace of the current directory.
local M = {}

local health = vim.health
local TIMEOUT_MS = 60000  -- doctor probes remote backends for up to 10 s each

local function run(cmd, cwd, env)
  local ok, process = pcall(vim.system, cmd, { text = true, cwd = cwd, env = env })
  if not ok then
    return { code = -1, stdout = "", stderr = tostring(process) }
  end
  return process:wait(TIMEOUT_MS)
end

-- The plugin's settings as the SWARM_LSP_<KEY> variables the CLI reads (lists comma-separated),
-- so that doctor sees the tiers the server is given.
local function settings_env(settings)
  local env = {}
  for key, value in pairs(settings or {}) do
    local name = "SWARM_LSP_" .. tostring(key):gsub("-", "_"):upper()
    env[name] = type(value) == "table" and table.concat(value, ",") or tostring(value)
  end
  return env
end

local function check_neovim()
  local version = tostring(vim.version())
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok(("Neovim %s: the server is registered with vim.lsp.config() and vim.lsp.enable()"):format(version))
  elseif vim.fn.has("nvim-0.10") == 1 then
    health.ok(("Neovim %s: the server is started with vim.lsp.start() from a FileType autocmd"):format(version))
  else
    health.error("Neovim 0.10 or later is needed", { "Upgrade Neovim" })
  end
  if not require("swarm_lsp").configured then
    health.warn("setup() has not been called: the server is not registered",
      { 'Call require("swarm_lsp").setup() in your config (lazy.nvim: opts = {})' })
  end
end

--- The executable for `root` and its version; nil when it is missing or broken.
local function check_executable(root)
  local plugin = require("swarm_lsp")
  local cmd, source = plugin.command(root)
  if not cmd then
    health.error(source, {
      'Install swarm-lsp in the project: python -m venv .venv && .venv/bin/pip install -e ".[embedded,model-0-5b]"',
      'or give its path: require("swarm_lsp").setup({ cmd = "/path/to/swarm-lsp" })',
    })
    return nil
  end
  health.ok(("executable: %s (from %s)"):format(cmd[1], source))
  local version = run({ cmd[1], "--version" }, root)
  if version.code ~= 0 then
    health.error(("%s --version failed: %s"):format(cmd[1], vim.trim(version.stderr or "")),
      { "Reinstall swarm-lsp in its virtualenv" })
    return nil
  end
  health.ok("version: " .. vim.trim(version.stdout))
  return cmd[1]
end

local function check_models(report)
  local names = vim.tbl_keys(report.embedded_models or {})
  table.sort(names)
  for _, name in ipairs(names) do
    local model = report.embedded_models[name]
    if model.assembled == "verified" then
      health.ok(("model %s: assembled and verified (%s)"):format(name, model.path))
    elseif model.assembled == "unverified" then
      health.warn(("model %s: assembled, not verified"):format(name), { "swarm-lsp models verify " .. name })
    elseif model.error then
      health.info(("model %s: not usable: %s"):format(name, model.error))
    else
      health.info(("model %s: parts installed (%s), not assembled"):format(name, model.model_parts or "?"),
        { "swarm-lsp models fetch " .. name })
    end
  end
end

local function backend_advice(backend)
  if backend.kind == "llamacpp" then
    return { "Install what the error names, then: swarm-lsp models fetch", "or choose other tiers" }
  elseif backend.kind == "ollama" then
    return { "Start Ollama (ollama serve) and pull the model, or set OLLAMA_HOST", "or choose other tiers" }
  end
  return { "See `swarm-lsp doctor` for details, or choose other tiers" }
end

local function check_tiers(report)
  for _, backend in ipairs(report.backends or {}) do
    local role = vim.tbl_contains(report.tiers or {}, backend.backend) and "tier" or "reviewer"
    if backend.ok then
      health.ok(("%s %s: usable"):format(role, backend.backend))
    else
      health.error(("%s %s: not usable: %s"):format(role, backend.backend, backend.error or "no reason given"),
        backend_advice(backend))
    end
  end
  if report.error then
    health.error("tiers: " .. report.error, { "Fix `tiers` in [tool.swarm-lsp] or in setup({ settings = ... })" })
  end
  local plan = table.concat(report.tiers or {}, " -> ")
  if report.ok then
    health.ok(("tiers usable (%s): %s"):format(report.escalation or "?", plan))
  else
    health.error("not every tier is usable: " .. (plan ~= "" and plan or "none"), {
      "Set tiers to usable backends, e.g. settings = { tiers = { \"llamacpp:qwen2.5-coder-0.5b\" } }",
      "(in setup() or in [tool.swarm-lsp] of pyproject.toml)",
    })
  end
end

local function check_doctor(executable, root)
  local settings = require("swarm_lsp").options.settings
  local doctor = run({ executable, "doctor", "--json", root }, root, settings_env(settings))
  local ok, report = pcall(vim.json.decode, doctor.stdout or "", { luanil = { object = true, array = true } })
  if not ok or type(report) ~= "table" then
    health.error("swarm-lsp doctor --json gave no report: " .. vim.trim(doctor.stderr or ""),
      { "Run `swarm-lsp doctor` in a terminal to see what fails" })
    return
  end
  check_models(report)
  check_tiers(report)
end

local function check_clients()
  local clients = vim.lsp.get_clients({ name = require("swarm_lsp").NAME })
  if #clients == 0 then
    health.info("no swarm-lsp server is running (it starts when you open a file it serves)")
  end
  for _, client in ipairs(clients) do
    local cmd = type(client.config.cmd) == "table" and table.concat(client.config.cmd, " ") or "(resolved per root)"
    health.info(("server %d running for %s: %s"):format(client.id, client.root_dir or "(no root)", cmd))
  end
end

function M.check()
  health.start("swarm-lsp: Neovim")
  check_neovim()
  local root = require("swarm_lsp").root(vim.fn.getcwd()) or vim.fn.getcwd()
  health.start("swarm-lsp: executable (workspace " .. root .. ")")
  local executable = check_executable(root)
  if executable then
    health.start("swarm-lsp: models and tiers (swarm-lsp doctor --json)")
    check_doctor(executable, root)
  end
  health.start("swarm-lsp: servers")
  check_clients()
end

return M
