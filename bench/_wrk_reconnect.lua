-- wrk script: every Nth request on a wrk thread asks the server to close its connection
-- (N is the first script argument, default 100; 0: never), and wrk opens a new one. The
-- server's workers thus get a fresh share of the connections many times per measurement.
-- Each further argument is one set of request headers ("Name: value" lines, see
-- bench/_load.py format_header_set); requests take the sets in turn.
local every = 100
local sent = 0
local header_sets = {}

local function parse_header_set(text)
  local headers = {}
  for line in string.gmatch(text, "[^\n]+") do
    local name, value = string.match(line, "^([^:]+): (.*)$")
    if not name then
      error("not a header line: " .. line)
    end
    headers[name] = value
  end
  return headers
end

function init(args)
  if args[1] then
    every = tonumber(args[1])
  end
  for i = 2, #args do
    header_sets[#header_sets + 1] = parse_header_set(args[i])
  end
end

function request()
  sent = sent + 1
  local close = every > 0 and sent % every == 0
  if #header_sets == 0 then
    if close then
      return wrk.format(nil, nil, { ["Connection"] = "close" })
    end
    return wrk.format()
  end
  -- A fresh table each time: wrk.format adds Host and Content-Length to the one it gets.
  local headers = {}
  for name, value in pairs(header_sets[sent % #header_sets + 1]) do
    headers[name] = value
  end
  if close then
    headers["Connection"] = "close"
  end
  return wrk.format(nil, nil, headers)
end
