-- Headless Neovim 0.11 (no workspace/diagnostic pull) and Handrail's bounded fallback
-- (issue 19.3): a finding in a file that is not open shows in vim.diagnostic.get(); opened,
-- the file's own pulled diagnostics take over and the pushed ones are cleared, so the
-- finding shows once. Exits 0 when every step worked, 1 otherwise.

local config = assert(os.getenv("HANDRAIL_NVIM_CONFIG"))
local opened = assert(os.getenv("HANDRAIL_OPEN"))
local closed = assert(os.getenv("HANDRAIL_CLOSED"))
local timeout = 60000 -- a hang guard: a loaded machine may take tens of seconds

local function fail(message)
  io.stderr:write("FAIL: " .. message .. "\n")
  os.exit(1)
end

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

if not vim.wait(timeout, function() return hr300_in(closed) == 1 end, 20) then
  fail("no HR300 for the closed file " .. closed .. " in vim.diagnostic.get()")
end
local client = vim.lsp.get_clients({ name = "handrail" })[1]
if not client then fail("the handrail client is not running") end

vim.cmd.edit(closed)
local pushed = vim.lsp.diagnostic.get_namespace(client.id, false)
local pulled = vim.lsp.diagnostic.get_namespace(client.id, true)
local once = vim.wait(timeout, function()
  return hr300_in(closed, pushed) == 0 and hr300_in(closed, pulled) == 1
end, 20)
if not once then
  fail(string.format("after opening: %d pushed and %d pulled HR300 (want 0 and 1)",
    hr300_in(closed, pushed), hr300_in(closed, pulled)))
end
print("closed-file finding shown, then taken over by the open buffer")
os.exit(0)
