-- wrk script: every Nth request on a wrk thread asks the server to close its connection
-- (N is the first script argument, default 100), and wrk opens a new one. The server's
-- workers thus get a fresh share of the connections many times per measurement.
local every = 100
local sent = 0

function init(args)
  if args[1] then
    every = tonumber(args[1])
  end
end

function request()
  sent = sent + 1
  if sent % every == 0 then
    return wrk.format(nil, nil, { ["Connection"] = "close" })
  end
  return wrk.format()
end
