-- The server's answers as messages for vim.notify: each returns the text and its level.
local M = {}

local levels = vim.log.levels

local function percent(share)
  return type(share) == "number" and ("%d%%"):format(math.floor(share * 100 + 0.5)) or "?"
end

local function plural(n, word)
  return ("%d %s%s"):format(n, word, n == 1 and "" or "s")
end

local function severities(by_severity)
  local parts = {}
  for _, severity in ipairs({ "high", "medium", "low" }) do
    local n = (by_severity or {})[severity] or 0
    if n > 0 then
      table.insert(parts, ("%d %s"):format(n, severity))
    end
  end
  return #parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or ""
end

-- Lines about what an action's evidence holds, as far as it holds it.
local function evidence_lines(evidence)
  local lines = {}
  if evidence.tests_kept then
    local kept = #evidence.tests_kept
    local line = ("tests: %d kept"):format(kept)
    if type(evidence.tests_generated) == "number" then
      line = line .. (" of %d generated"):format(evidence.tests_generated)
    end
    if evidence.test_file then
      line = line .. " in " .. evidence.test_file
    end
    table.insert(lines, line)
    table.insert(lines, ("coverage: %s of the lines, %s of the branches"):format(
      percent(evidence.line_coverage), percent(evidence.branch_coverage)))
    if type(evidence.mutation_score) == "number" then
      table.insert(lines, "mutation score: " .. percent(evidence.mutation_score))
    end
  end
  if evidence.findings then
    table.insert(lines, plural(#evidence.findings, "finding") .. severities(evidence.by_severity))
    for _, finding in ipairs(evidence.findings) do
      table.insert(lines, ("  line %d: CWE-%s %s"):format(finding.start_line, finding.cwe, finding.message))
    end
  end
  if evidence.complexity_before and evidence.complexity_after then
    table.insert(lines, ("complexity: %d -> %d"):format(evidence.complexity_before, evidence.complexity_after))
  end
  if evidence.tests_run and #evidence.tests_run > 0 then
    table.insert(lines, plural(#evidence.tests_run, "test") .. " passed before and after")
  end
  if evidence.helpers_added and #evidence.helpers_added > 0 then
    table.insert(lines, "helpers added: " .. table.concat(evidence.helpers_added, ", "))
  end
  return lines
end

--- A `swarm.run` answer: the server's one-line summary (action, status, tier, tokens, time),
--- then what the evidence says.
function M.run(answer)
  local lines = { "swarm-lsp: " .. (answer.message or answer.status or "done") }
  if answer.status == "accepted" then
    vim.list_extend(lines, evidence_lines(answer.evidence or {}))
  end
  local level = levels.INFO
  if answer.status == "failed" then
    level = levels.ERROR
  elseif answer.status ~= "accepted" or answer.applied == false then
    level = levels.WARN
  end
  return table.concat(lines, "\n"), level
end

--- An error response: the server's message; a cancelled request (RequestCancelled, or a job
--- cancelled while it was queued) is a warning, anything else an error.
function M.error(err)
  local message = err.message or vim.inspect(err)
  local cancelled = err.code == -32800 or vim.startswith(message, "cancelled")
  return "swarm-lsp: " .. message, cancelled and levels.WARN or levels.ERROR
end

--- A `swarm.audit` answer for the file `name`.
function M.audit(answer, name)
  if not answer.published then
    return ("swarm-lsp: audit of %s not published: %s"):format(name, answer.reason or "unknown reason"), levels.WARN
  end
  local text = ("swarm-lsp: audit of %s: %s%s"):format(name, plural(answer.findings or 0, "finding"),
    severities(answer.by_severity))
  return text, (answer.findings or 0) > 0 and levels.WARN or levels.INFO
end

local function target(job)
  -- "file:///.../x.py::name" -> "x.py::name", relative to the current directory when inside it
  local uri, symbol = job.target:match("^(%a[%w+.-]*://.-)::(.*)$")
  if not uri then
    return job.target
  end
  return vim.fn.fnamemodify(vim.uri_to_fname(uri), ":~:.") .. "::" .. symbol
end

--- A `swarm.status` answer.
function M.status(answer)
  local jobs = vim.list_extend(vim.list_extend({}, answer.running or {}), answer.queued or {})
  if #jobs == 0 then
    return "swarm-lsp: no swarm job is running or queued", levels.INFO
  end
  local lines = { "swarm-lsp jobs:" }
  for _, job in ipairs(jobs) do
    local line = ("%s %s %s %s"):format(job.id, job.state, job.action, target(job))
    if job.stage and job.stage ~= "" then
      line = line .. ": " .. job.stage
    end
    table.insert(lines, line)
  end
  return table.concat(lines, "\n"), levels.INFO
end

local function totals(label, t)
  return ("%s: %s, %d local / %d cloud tokens in %s"):format(label, plural(t.actions or 0, "action"),
    t.local_tokens or 0, t.cloud_tokens or 0, plural(t.calls or 0, "model call"))
end

--- A `swarm.report` answer: token totals from the ledger.
function M.report(answer)
  if answer.error then
    return "swarm-lsp: " .. answer.error, levels.WARN
  end
  return table.concat({
    "swarm-lsp token report (" .. (answer.ledger or "ledger") .. ")",
    totals("today", answer.today or {}),
    totals("this workspace", answer.workspace or {}),
    totals("all time", answer.all_time or {}),
  }, "\n"), levels.INFO
end

return M
