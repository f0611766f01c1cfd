-- Headless Neovim 0.11 (no workspace/diagnostic pull) and Handrail's bounded fallback
-- (issue 19.3), one step a scenario: a finding in a file that is not open shows in
-- vim.diagnostic.get(); opened, the file's own pulled diagnostics take over and the pushed
-- ones are cleared, so the finding shows once. Every step runs and writes "ok" or why not to
-- the JSON file HANDRAIL_RESULTS (test_neovim.py asserts each). Exits 0 once written.

local config = assert(os.getenv("HANDRAIL_NVIM_CONFIG"))
local opened = assert(os.getenv("HANDRAIL_OPEN"))
local closed = assert(os.getenv("HANDRAIL_CLOSED"))
local results_path = assert(os.getenv("HANDRAIL_RESULTS"))
local timeout = 60000 -- a hang guard: a loaded machine may take tens of seconds

local results = {}

local function hr300_in(path, namespace)
  local found = 0
  for _, d in ipairs(vim.diagnostic.get(nil, namespace and { namespace = namespace } or nil)) do
    if d.code == "HR300" and vim.api.nvim_buf_get_name(d.bufnr) == path then
      found = found + 1
    end
  end
  return found
end

vim.cmd("filetype on")
dofile(config)
vim.cmd.edit(opened)

if vim.wait(timeout, function() return hr300_in(closed) == 1 end, 20) then
  results.closed = "ok"
else
  results.closed = "no HR300 for the closed file " .. closed .. " in vim.diagnostic.get()"
end
local client = nil
vim.wait(timeout, function()
  client = vim.lsp.get_clients({ name = "handrail" })[1]
  return client ~= nil
end, 20)
if not client then
  results.opened = "not tried: the handrail client is not running"
else
  vim.cmd.edit(closed)
  local pushed = vim.lsp.diagnostic.get_namespace(client.id, false)
  local pulled = vim.lsp.diagnostic.get_namespace(client.id, true)
  local once = vim.wait(timeout, function()
    return hr300_in(closed, pushed) == 0 and hr300_in(closed, pulled) == 1
  end, 20)
  if once then
    results.opened = "ok"
  else
    results.opened = string.format("after opening: %d pushed and %d pulled HR300 (want 0 and 1)",
      hr300_in(closed, pushed), hr300_in(closed, pulled))
  end
end

local out = assert(io.open(results_path, "w"))
out:write(vim.json.encode(results))
out:close()
os.exit(0)
