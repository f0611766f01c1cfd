-- Headless Neovim driving `handrail lsp` with the set-up snippets from docs/editors.md:
-- wait for HR300 on an unverified block, apply "Mark selection as generated" through
-- Neovim's own code-action machinery, then create a task through the :HandrailNewTask
-- snippet with vim.ui.input answered. Exits 0 when every step worked, 1 otherwise.

local config = assert(os.getenv("HANDRAIL_NVIM_CONFIG"))
local newtask = assert(os.getenv("HANDRAIL_NVIM_NEWTASK"))
local file = assert(os.getenv("HANDRAIL_FILE"))
local spec = assert(os.getenv("HANDRAIL_SPEC"))
local timeout = 60000 -- a hang guard: a loaded machine may take tens of seconds

local function fail(message)
  io.stderr:write("FAIL: " .. message .. "\n")
  os.exit(1)
end

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
if not has_hr300 then fail("no HR300 diagnostic on the unverified block") end
-- Issue 19.2: the block's finding sits on its begin marker, not over its code.
local marker = vim.api.nvim_buf_get_lines(buf, hr300.lnum, hr300.lnum + 1, false)[1]
if hr300.end_lnum ~= hr300.lnum or not marker:find("handrail:begin", 1, true) then
  fail("HR300 is not on the begin marker line alone: lines " .. hr300.lnum .. "-" .. hr300.end_lnum)
end

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
if not marked then
  fail("markers not in the buffer: " .. table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "|"))
end
-- The server records the block once the editor has applied the edit: wait for the record
-- before anything ends the session (a busy machine may take a moment).
local recorded = vim.wait(timeout, function()
  return vim.fn.glob(vim.fn.getcwd() .. "/.handrail/ledger/*.json") ~= ""
end, 20)
if not recorded then fail("the marked block was not recorded in the ledger") end
vim.cmd.write()

local notes = {}
vim.notify = function(message) table.insert(notes, message) end
vim.ui.input = function(_, on_confirm) on_confirm(spec) end
vim.cmd("HandrailNewTask")
local created = vim.wait(timeout, function()
  for _, note in ipairs(notes) do
    if note:find("^Created task ") then return true end
  end
  return false
end, 20)
if not created then fail("no task created: " .. table.concat(notes, "|")) end
print(notes[#notes])
os.exit(0)
