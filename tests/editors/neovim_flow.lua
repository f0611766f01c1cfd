-- Headless Neovim driving `handrail lsp` with the set-up snippets from docs/editors.md, one
-- step a scenario: HR300 on an unverified block's begin marker; "Mark selection as generated"
-- applied through Neovim's own code-action machinery (markers in the buffer, then the record
-- in the ledger); a task created through the :HandrailNewTask snippet with vim.ui.input
-- answered. Every step runs (a failed one does not hide the next: a step that needs an
-- earlier one says so) and writes "ok" or why not to the JSON file HANDRAIL_RESULTS, for
-- test_neovim.py to assert one scenario a test. Exits 0 once the results are written.

local config = assert(os.getenv("HANDRAIL_NVIM_CONFIG"))
local newtask = assert(os.getenv("HANDRAIL_NVIM_NEWTASK"))
local file = assert(os.getenv("HANDRAIL_FILE"))
local spec = assert(os.getenv("HANDRAIL_SPEC"))
local results_path = assert(os.getenv("HANDRAIL_RESULTS"))
local timeout = 60000 -- a hang guard: a loaded machine may take tens of seconds

local results = {}

vim.cmd("filetype on")
dofile(config)
dofile(newtask)
vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()

local hr300 = nil
local has_hr300 = vim.wait(timeout, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == "HR300" then hr300 = d return true end
  end
  return false
end, 20)
if not has_hr300 then
  results.hr300 = "no HR300 diagnostic on the unverified block"
else
  -- Issue 19.2: the block's finding sits on its begin marker, not over its code.
  local marker = vim.api.nvim_buf_get_lines(buf, hr300.lnum, hr300.lnum + 1, false)[1]
  if hr300.end_lnum ~= hr300.lnum or not marker:find("handrail:begin", 1, true) then
    results.hr300 = "HR300 is not on the begin marker line alone: lines "
      .. hr300.lnum .. "-" .. hr300.end_lnum
  else
    results.hr300 = "ok"
  end
end

-- Once the server answered at all (HR300 or not), the mark action can be asked for.
vim.lsp.buf.code_action({
  apply = true,
  range = { start = { 1, 0 }, ["end"] = { 1, 9 } },
  filter = function(action)
    return action.title:find("Mark selection as generated for task k3f7qa", 1, true) ~= nil
  end,
})
local marked = vim.wait(timeout, function()
  local lines = vim.api.nvim_buf_get_lines(buf, 0, 3, false)
  return lines[1] == "# handrail:begin k3f7qa.2" and lines[2] == "import os"
    and lines[3] == "# handrail:end k3f7qa.2"
end, 20)
if marked then
  results.mark = "ok"
  -- The server records the block once the editor has applied the edit: wait for the record
  -- before anything ends the session (a busy machine may take a moment).
  local recorded = vim.wait(timeout, function()
    return vim.fn.glob(vim.fn.getcwd() .. "/.handrail/ledger/*.json") ~= ""
  end, 20)
  results.record = recorded and "ok" or "the marked block was not recorded in the ledger"
  vim.cmd.write()
else
  results.mark = "markers not in the buffer: "
    .. table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "|")
  results.record = "not tried: the selection was not marked"
end

local notes = {}
vim.notify = function(message) table.insert(notes, message) end
vim.ui.input = function(_, on_confirm) on_confirm(spec) end
local ran, err = pcall(vim.cmd, "HandrailNewTask")
local created = ran and vim.wait(timeout, function()
  for _, note in ipairs(notes) do
    if note:find("^Created task ") then return true end
  end
  return false
end, 20)
if created then
  results.new_task = "ok"
  results.new_task_note = notes[#notes]
else
  results.new_task = "no task created: " .. (ran and table.concat(notes, "|") or tostring(err))
end

local out = assert(io.open(results_path, "w"))
out:write(vim.json.encode(results))
out:close()
os.exit(0)
