-- tokenwarden for Neovim: one tokenwarden language server per Neovim instance
-- (protocol v1, see docs/protocol.md). Works on Neovim 0.7.2 and
-- current releases: every API newer than 0.7 is guarded.
--
--   require('tokenwarden').setup({ profile = 'work' })
--   :TokenwardenSignIn  :TokenwardenSignOut  :TokenwardenStatus  :TokenwardenRefresh
--   require('tokenwarden').statusline()        -- "TW: signed in (alice@example.com, 52m left)"
--   require('tokenwarden').get_token(function(err, token) ... end)

local M = {}

local PROTOCOL_VERSION = 1
local SIGN_IN_ACTION = 'Sign in'

local defaults = {
  -- The server command (a list). Override with an absolute path when
  -- `tokenwarden` is not on $PATH, e.g. { '/path/.venv/bin/tokenwarden', 'serve' }.
  cmd = { 'tokenwarden', 'serve' },
  cmd_env = nil,           -- extra environment for the server, e.g. { TOKENWARDEN_HOME = '…' }
  profile = nil,           -- nil: the server's default profile
  open_browser = true,     -- true | false | function(url) -> boolean (opened?)
  copy_code = true,        -- copy the user code to the + register when a clipboard is available
  notify = true,           -- vim.notify on sign-in, sign-out and session end
  warn_before_expiry_seconds = nil, -- initializationOptions.warnBeforeExpirySeconds
  init_options = nil,      -- merged into initializationOptions (e.g. { profiles = {…} })
  autostart = true,        -- start the server in setup(); else on first use
  on_status = nil,         -- function(status) called on every status change
  statusline_format = nil, -- function(status) -> string, replaces the built-in format
  ui_select = nil,         -- replaces vim.ui.select for the "session ends" question
}

-- Module state: exactly one server for the whole Neovim instance.
local S = {
  config = nil,
  client_id = nil,
  client = nil,
  initialized = false,
  stopping = false,
  queue = {},        -- callbacks waiting for the server to finish initializing
  status = nil,      -- last status object (didChangeStatus or a command's reply)
  login = nil,       -- last device-code login info shown to the user
  last_code = nil,   -- user code already announced (dedup)
  last_error = nil,  -- last start/request error, for :checkhealth
}

-- ------------------------------------------------------------------ helpers

local function has(feature)
  return vim.fn.has(feature) == 1
end

local function level(name)
  return (vim.log and vim.log.levels and vim.log.levels[name]) or 2
end

local function notify(msg, lvl)
  if S.config and S.config.notify == false then
    return
  end
  -- The built-in vim.notify ignores the title: say where the message comes from.
  vim.notify('tokenwarden: ' .. msg, lvl or level('INFO'), { title = 'tokenwarden' })
end

local function is_nil(v)
  return v == nil or v == vim.NIL
end

local function val(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

local function get_client()
  if not S.client_id then
    return nil
  end
  -- 0.7 keeps a client in neither table while its on_init runs: fall back to the
  -- object on_init handed us.
  local client = vim.lsp.get_client_by_id(S.client_id)
  if client == nil and S.client and S.client.id == S.client_id then
    client = S.client
  end
  if client == nil then
    return nil
  end
  local stopped
  if has('nvim-0.11') then
    stopped = client:is_stopped()
  else
    stopped = client.is_stopped and client.is_stopped()
  end
  if stopped then
    return nil
  end
  return client
end

-- client.request(...) before 0.11, client:request(...) since (dot call deprecated).
local function client_request(client, method, params, handler)
  if has('nvim-0.11') then
    return client:request(method, params, handler)
  end
  return client.request(method, params, handler)
end

local function client_stop(client, force)
  if has('nvim-0.11') then
    return client:stop(force)
  end
  return client.stop(force)
end

local function fire_user_autocmd()
  if vim.api.nvim_exec_autocmds then
    pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'TokenwardenStatus', modeline = false })
  else
    pcall(vim.cmd, 'doautocmd <nomodeline> User TokenwardenStatus')
  end
end

--- Seconds since the epoch of an RFC 3339 UTC time ("2026-11-27T07:00:00Z" or with
--- fractional seconds / "+00:00"); nil when it does not parse.
function M._parse_utc(s)
  if type(s) ~= 'string' then
    return nil
  end
  local y, mo, d, h, mi, sec = s:match('^(%d+)-(%d+)-(%d+)[Tt ](%d+):(%d+):(%d+)')
  if not y then
    return nil
  end
  local frac = tonumber(s:match('^%d+-%d+-%d+[Tt ]%d+:%d+:%d+(%.%d+)') or '0') or 0
  local offset = 0
  local sign, oh, om = s:match('([+-])(%d%d):?(%d%d)$')
  if sign then
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == '-' and -1 or 1)
  end
  -- os.time() reads the table as local time; convert from UTC through the zone offset.
  local t = os.time({ year = tonumber(y), month = tonumber(mo), day = tonumber(d),
                      hour = tonumber(h), min = tonumber(mi), sec = tonumber(sec), isdst = false })
  local now = os.time()
  local utc_now = os.time(vim.tbl_extend('force', os.date('!*t', now), { isdst = false }))
  return t + (now - utc_now) - offset + frac
end

--- "52m", "3s", "2h05m" (nil for a negative or missing duration).
function M._humanize(seconds)
  if not seconds then
    return nil
  end
  if seconds < 0 then
    return '0s'
  end
  seconds = math.floor(seconds + 0.5)
  if seconds < 60 then
    return string.format('%ds', seconds)
  elseif seconds < 3600 then
    return string.format('%dm', math.floor(seconds / 60))
  end
  return string.format('%dh%02dm', math.floor(seconds / 3600), math.floor((seconds % 3600) / 60))
end

local function copy_to_clipboard(text)
  if S.config and S.config.copy_code == false then
    return false
  end
  if not has('clipboard') then
    return false
  end
  -- has('clipboard') can be 1 while no provider actually works (headless, no display).
  local ok = pcall(vim.fn.setreg, '+', text)
  return ok and vim.fn.getreg('+') == text
end

-- ------------------------------------------------------------------ UI pieces

local function announce_code(login)
  if login and is_nil(login.userCode) and not is_nil(login.authorizationUri) then
    -- A browser sign-in: the server asked the editor to open the page already.
    S.login = login
    if S.last_code ~= login.authorizationUri then
      S.last_code = login.authorizationUri
      notify('sign in in your browser (if it did not open: ' .. login.authorizationUri .. ')')
    end
    return
  end
  if not login or is_nil(login.userCode) then
    return
  end
  S.login = login
  if S.last_code == login.userCode then
    return
  end
  S.last_code = login.userCode
  local uri = val(login.verificationUri) or val(login.verificationUriComplete) or '?'
  local copied = copy_to_clipboard(login.userCode)
  notify(string.format('enter code %s at %s%s', login.userCode, uri,
    copied and ' (code copied)' or ''))
end

local function set_status(status)
  if type(status) ~= 'table' or is_nil(status.state) then
    return
  end
  local previous = S.status
  S.status = status
  if status.state == 'signingIn' and type(status.login) == 'table' then
    announce_code(status.login)
  end
  local before = previous and previous.state
  if status.state ~= before then
    if status.state == 'signedIn' and before == 'signingIn' then
      notify(val(status.message) or 'Signed in')
    elseif status.state == 'expired' then
      notify(val(status.message) or 'Session expired: sign in again', level('WARN'))
    elseif status.state == 'signedOut' and before == 'signingIn' and not is_nil(status.lastError) then
      notify('Sign-in ended: ' .. tostring(val(status.lastError.message) or status.lastError.code),
        level('WARN'))
    end
    if status.state ~= 'signingIn' then
      S.last_code = nil
    end
  end
  if S.config and type(S.config.on_status) == 'function' then
    pcall(S.config.on_status, status)
  end
  fire_user_autocmd()
  pcall(vim.cmd, 'redrawstatus')
end

--- Open a URL outside Neovim: config.open_browser (function), vim.ui.open (0.10+),
--- else xdg-open / open / start through jobstart. Returns true when launched.
function M.open_url(url)
  local opener = S.config and S.config.open_browser
  if opener == false then
    return false
  end
  if type(opener) == 'function' then
    local ok, res = pcall(opener, url)
    return ok and res ~= false
  end
  if vim.ui and vim.ui.open then
    local ok, cmd_or_err = pcall(vim.ui.open, url)
    return ok and cmd_or_err ~= nil
  end
  local cmd
  if has('mac') then
    cmd = { 'open', url }
  elseif has('win32') then
    cmd = { 'cmd.exe', '/c', 'start', '', url }
  elseif vim.fn.executable('xdg-open') == 1 then
    cmd = { 'xdg-open', url }
  elseif vim.fn.executable('wslview') == 1 then
    cmd = { 'wslview', url }
  else
    return false
  end
  local ok, job = pcall(vim.fn.jobstart, cmd, { detach = true })
  return ok and job > 0
end

local function message_level(lsp_type)
  if lsp_type == 1 then
    return level('ERROR')
  elseif lsp_type == 2 then
    return level('WARN')
  end
  return level('INFO')
end

-- ------------------------------------------------------------------ handlers

local handlers = {}

handlers['tokenwarden/didChangeStatus'] = function(_, result)
  set_status(result)
end

-- Neovim answers server requests synchronously, and the built-in handler of
-- 0.7 blocks in inputlist(). Answer "no choice" at once and ask through
-- vim.ui.select (dressing/telescope-friendly); "Sign in" then starts the
-- sign-in from here, which is exactly what the server would have done.
handlers['window/showMessageRequest'] = function(_, params)
  params = params or {}
  local actions = val(params.actions) or {}
  local text = val(params.message) or ''
  if #actions == 0 then
    notify(text, message_level(params.type))
    return vim.NIL
  end
  vim.schedule(function()
    local select = (S.config and S.config.ui_select) or vim.ui.select
    select(actions, {
      prompt = text,
      format_item = function(action)
        return action.title
      end,
      kind = 'tokenwarden',
    }, function(choice)
      -- As the server would: a new sign-in (forced), unless one is running.
      if choice and choice.title == SIGN_IN_ACTION
          and not (S.status and S.status.state == 'signingIn') then
        M.sign_in({ profile = S.status and val(S.status.profile) or nil, force = true })
      end
    end)
  end)
  return vim.NIL
end

handlers['window/showDocument'] = function(_, params)
  local uri = params and val(params.uri)
  if not uri then
    return { success = false }
  end
  if params.external == false and not uri:match('^https?:') then
    -- A file the server wants shown inside the editor (not used by tokenwarden).
    local ok = pcall(vim.cmd, 'edit ' .. vim.fn.fnameescape(vim.uri_to_fname(uri)))
    return { success = ok }
  end
  return { success = M.open_url(uri) }
end

handlers['window/showMessage'] = function(_, params)
  if params and not is_nil(params.message) then
    local msg = tostring(params.message):gsub('^tokenwarden: ', '')
    notify(msg, message_level(params.type))
  end
  return vim.NIL
end

M.handlers = handlers

-- ------------------------------------------------------------------ server

local function flush_queue(err)
  local queue = S.queue
  S.queue = {}
  for _, fn in ipairs(queue) do
    local ok, e = pcall(fn, err)
    if not ok then
      notify('callback failed: ' .. tostring(e), level('ERROR'))
    end
  end
end

local function init_options(cfg)
  local opts = vim.empty_dict()
  if cfg.profile then
    opts.profile = cfg.profile
  end
  opts.openBrowser = cfg.open_browser ~= false
  if cfg.warn_before_expiry_seconds then
    opts.warnBeforeExpirySeconds = cfg.warn_before_expiry_seconds
  end
  if type(cfg.init_options) == 'table' then
    for k, v in pairs(cfg.init_options) do
      opts[k] = v
    end
  end
  return opts
end

local function capabilities(cfg)
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.window = caps.window or {}
  caps.window.showDocument = { support = cfg.open_browser ~= false }
  caps.window.workDoneProgress = true
  return caps
end

-- The client configuration of the one tokenwarden server (vim.lsp.start and
-- vim.lsp.config share it): its on_init / on_exit keep the module state.
local function client_config(cfg)
  if not S.leave_autocmd then
    S.leave_autocmd = true
    vim.api.nvim_create_autocmd('VimLeavePre', {
      callback = function()
        S.stopping = true -- Neovim stops the server itself; not a crash
      end,
    })
  end
  return {
    name = 'tokenwarden',
    cmd = cfg.cmd,
    cmd_env = cfg.cmd_env,
    root_dir = (vim.uv or vim.loop).cwd(),
    init_options = init_options(cfg),
    capabilities = capabilities(cfg),
    handlers = handlers,
    on_init = function(client, result)
      local caps = result and result.capabilities or {}
      local exp = type(caps.experimental) == 'table' and caps.experimental.tokenwarden or nil
      if type(exp) ~= 'table' or exp.protocolVersion ~= PROTOCOL_VERSION then
        notify('server does not announce protocol v' .. PROTOCOL_VERSION ..
          '; continuing anyway', level('WARN'))
      end
      S.initialized = true
      S.client_id = client.id
      S.client = client
      vim.schedule(function()
        flush_queue(nil)
        -- Ask for the initial status (it also arrives as didChangeStatus).
        M.execute('tokenwarden.status', {}, function(err, status)
          if not err then
            set_status(status)
          end
        end)
      end)
    end,
    on_exit = function(code, signal, exited_id)
      -- Runs in a libuv callback: update the state now, touch the editor later.
      if exited_id and S.client_id and exited_id ~= S.client_id then
        return -- an older server; a new one already runs
      end
      local expected = S.stopping
      S.client_id = nil
      S.client = nil
      S.initialized = false
      S.status = nil
      local queued = S.queue
      S.queue = {}
      vim.schedule(function()
        for _, fn in ipairs(queued) do
          pcall(fn, { code = -32099, message = 'tokenwarden server exited' })
        end
        fire_user_autocmd()
        pcall(vim.cmd, 'redrawstatus')
        if not expected and (code ~= 0 or signal ~= 0) then
          S.last_error = string.format('server exited (code %s, signal %s)', code, signal)
          notify('server exited unexpectedly (code ' .. tostring(code) .. ', signal '
            .. tostring(signal) .. '); the next :Tokenwarden… command restarts it',
            level('WARN'))
        end
      end)
    end,
  }
end

--- Start the server unless it already runs in this Neovim instance. Returns the client id.
function M.start()
  if get_client() then
    return S.client_id
  end
  local cfg = S.config or vim.deepcopy(defaults)
  S.config = cfg
  if has('nvim-0.11') and vim.lsp.get_clients then
    -- Started by vim.lsp.enable('tokenwarden') and still initializing: use it.
    for _, client in ipairs(vim.lsp.get_clients({ name = 'tokenwarden' })) do
      if not client:is_stopped() then
        S.client_id = client.id
        return client.id
      end
    end
  end
  if type(cfg.cmd) == 'table' and vim.fn.executable(cfg.cmd[1]) == 0 then
    local msg = cfg.cmd[1] .. ' not found or not executable: set cmd in setup() '
      .. '(see :checkhealth tokenwarden)'
    if S.last_error ~= msg then -- say it once, not on every command
      notify(msg, level('ERROR'))
    end
    S.last_error = msg
    return nil
  end
  S.initialized = false
  S.stopping = false
  local config = client_config(cfg)
  local ok, id
  if has('nvim-0.11') and vim.lsp.start then
    -- attach = false: the server manages no buffer; never reuse another
    -- 'tokenwarden' client (its on_init would not run for us).
    ok, id = pcall(vim.lsp.start, config, {
      attach = false,
      reuse_client = function()
        return false
      end,
    })
  else
    ok, id = pcall(vim.lsp.start_client, config)
  end
  if not ok or not id then
    local shown = type(cfg.cmd) == 'table' and table.concat(cfg.cmd, ' ') or 'tokenwarden'
    S.last_error = 'could not start ' .. shown .. (ok and '' or (': ' .. tostring(id)))
    notify(S.last_error, level('ERROR'))
    return nil
  end
  S.client_id = id
  return id
end

--- Stop the server (it is restarted on the next command).
function M.stop()
  local client = get_client()
  if client then
    S.stopping = true
    client_stop(client, false)
  end
end

--- Run fn(err) once the server is initialized (starting it when needed).
local function with_server(fn)
  local id = M.start()
  if not id then
    fn({ code = -32099, message = S.last_error or 'tokenwarden server not running' })
    return
  end
  if S.initialized then
    fn(nil)
  else
    table.insert(S.queue, fn)
  end
end

--- Send a request; cb(err, result) with err a {code, message, data} table.
function M.request(method, params, cb)
  cb = cb or function() end
  with_server(function(start_err)
    if start_err then
      return cb(start_err, nil)
    end
    local client = get_client()
    if not client then
      return cb({ code = -32099, message = 'tokenwarden server not running' }, nil)
    end
    local ok = client_request(client, method, params, function(err, result)
      if err then
        cb(err, nil)
      else
        cb(nil, val(result))
      end
    end)
    if not ok then
      cb({ code = -32099, message = 'request could not be sent' }, nil)
    end
  end)
end

--- workspace/executeCommand with the single optional object argument.
function M.execute(command, arg, cb)
  local a = vim.empty_dict()
  for k, v in pairs(arg or {}) do
    a[k] = v
  end
  if a.profile == nil and S.config and S.config.profile then
    a.profile = S.config.profile
  end
  M.request('workspace/executeCommand', { command = command, arguments = { a } }, cb)
end

local function report_error(what, err)
  notify(string.format('%s failed: %s', what, tostring(err.message or vim.inspect(err))),
    level('ERROR'))
end

-- ------------------------------------------------------------------ commands

--- :TokenwardenSignIn — starts the sign-in, in the browser or with a device code
--- (returns at once; the outcome arrives as a status change).
--- opts: {profile?, force?, openBrowser?, flow? = 'auto' | 'browser' | 'device'}
function M.sign_in(opts, cb)
  opts = opts or {}
  M.execute('tokenwarden.login', {
    profile = opts.profile, force = opts.force or nil, openBrowser = opts.openBrowser,
    flow = opts.flow,
  }, function(err, result)
    if err then
      report_error('Sign-in', err)
    elseif type(result) == 'table' and (not is_nil(result.userCode)
        or not is_nil(result.authorizationUri)) then
      announce_code(result)
    elseif type(result) == 'table' then
      set_status(result)
      notify(val(result.message) or ('State: ' .. tostring(result.state)))
    end
    if cb then
      cb(err, result)
    end
  end)
end

--- Run a server command: on success hand its answer to on_result, on failure tell
--- the user; then call cb(err, result) either way.
local function run_command(label, command, arg, on_result, cb)
  M.execute(command, arg, function(err, result)
    if err then
      report_error(label, err)
    else
      on_result(result)
    end
    if cb then
      cb(err, result)
    end
  end)
end

--- A command that answers with a status object: render it and say its message.
local function shows_status(fallback)
  return function(result)
    set_status(result)
    notify(val(result and result.message) or fallback)
  end
end

function M.sign_out(opts, cb)
  opts = opts or {}
  run_command('Sign-out', 'tokenwarden.logout', { profile = opts.profile, revoke = opts.revoke },
    shows_status('Signed out'), cb)
end

function M.refresh(opts, cb)
  opts = opts or {}
  run_command('Refresh', 'tokenwarden.refresh', { profile = opts.profile },
    shows_status('Renewed'), cb)
end

function M.cancel_sign_in(opts, cb)
  opts = opts or {}
  run_command('Cancel', 'tokenwarden.cancelLogin', { profile = opts.profile }, function(result)
    notify((result and result.cancelled) and 'Sign-in cancelled' or 'No sign-in in progress')
  end, cb)
end

--- :TokenwardenStatus — shows the status line of the server (and starts it if needed).
function M.show_status(opts, cb)
  opts = opts or {}
  run_command('Status', 'tokenwarden.status', { profile = opts.profile }, function(result)
    set_status(result)
    local lines = { val(result.message) or tostring(result.state) }
    if not is_nil(result.expiresAt) then
      table.insert(lines, 'expires at ' .. result.expiresAt)
    end
    if type(result.lastError) == 'table' then
      table.insert(lines, 'last error: ' .. tostring(val(result.lastError.message)))
    end
    if S.config and S.config.notify == false then
      print(table.concat(lines, ' · '))
    else
      notify(table.concat(lines, ' · '))
    end
  end, cb)
end

-- ------------------------------------------------------------------ Lua API

--- cb(err, token) with token = {accessToken, tokenType, expiresAt, scopes}.
--- opts: {profile?, minValiditySeconds?, interactive?}. err.code is -32001
--- (SignInRequired) or -32002 (TemporarilyUnavailable, err.data.retryAfterSeconds).
function M.get_token(cb, opts)
  opts = opts or {}
  local params = vim.empty_dict()
  params.profile = opts.profile or (S.config and S.config.profile) or nil
  params.minValiditySeconds = opts.minValiditySeconds or opts.min_validity_seconds
  params.interactive = opts.interactive
  M.request('tokenwarden/getToken', params, cb)
end

--- A consumer got 401 with this token: renew now; cb like get_token.
function M.token_rejected(access_token, cb, opts)
  opts = opts or {}
  local params = { accessToken = access_token }
  params.profile = opts.profile or (S.config and S.config.profile) or nil
  M.request('tokenwarden/tokenRejected', params, cb)
end

--- Synchronous variant for scripts: returns token table or nil, err (waits at most timeout_ms).
function M.get_token_sync(opts, timeout_ms)
  local done, res, e = false, nil, nil
  M.get_token(function(err, result)
    done, res, e = true, result, err
  end, opts)
  vim.wait(timeout_ms or 10000, function()
    return done
  end, 20)
  if not done then
    return nil, { code = -32099, message = 'timed out' }
  end
  return res, e
end

-- ------------------------------------------------------------------ status line

local LABELS = {
  signedOut = 'signed out',
  signingIn = 'signing in',
  signedIn = 'signed in',
  refreshing = 'renewing',
  degraded = 'degraded',
  expired = 'expired',
}

--- The last status object (nil before the server answered).
function M.status()
  return S.status
end

--- The user code being shown for a sign-in in progress (nil otherwise).
function M.pending_login()
  if S.status and S.status.state == 'signingIn' then
    return S.login
  end
  return nil
end

function M.is_running()
  return get_client() ~= nil
end

--- Short text for a status line: "TW: signed in (alice@example.com, 52m left)".
function M.statusline()
  local st = S.status
  if S.config and type(S.config.statusline_format) == 'function' then
    local ok, text = pcall(S.config.statusline_format, st)
    return ok and tostring(text or '') or ''
  end
  if not st then
    return get_client() and 'TW: starting' or ''
  end
  local label = LABELS[st.state] or tostring(st.state)
  local details = {}
  if st.state == 'signingIn' and S.login and S.last_code then
    table.insert(details, 'code ' .. S.last_code)
  elseif not is_nil(st.account) and st.state ~= 'signedOut' then
    table.insert(details, st.account)
  end
  if st.state == 'signedIn' or st.state == 'refreshing' or st.state == 'degraded' then
    local exp = M._parse_utc(val(st.expiresAt))
    if exp then
      table.insert(details, M._humanize(exp - os.time()) .. ' left')
    end
  elseif st.state == 'expired' then
    table.insert(details, 'sign in again')
  end
  if #details > 0 then
    return string.format('TW: %s (%s)', label, table.concat(details, ', '))
  end
  return 'TW: ' .. label
end

--- A lualine component: sections = { lualine_x = { require('tokenwarden').lualine } }
M.lualine = {
  function()
    return M.statusline()
  end,
  cond = function()
    return S.status ~= nil or get_client() ~= nil
  end,
}

-- ------------------------------------------------------------------ setup

function M.setup(opts)
  local cfg = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if type(cfg.cmd) == 'string' then
    cfg.cmd = { cfg.cmd, 'serve' }
  end
  local running = get_client() ~= nil
  S.config = cfg
  if running then
    notify('server already running; the new settings apply after :lua require("tokenwarden").stop()',
      level('WARN'))
  elseif cfg.autostart then
    M.start()
  end
  return M
end

--- The configuration for Neovim 0.11+'s own way of setting up servers:
---   vim.lsp.config('tokenwarden', { cmd = { '/path/.venv/bin/tokenwarden', 'serve' } })
---   vim.lsp.enable('tokenwarden')
--- `lsp/tokenwarden.lua` (on the runtime path with this plugin) returns it, so
--- vim.lsp.config merges the user's keys over it. `opts` are those of setup().
--- The server starts with the first buffer that has a file; the commands and the
--- status line use that client, and the plugin never starts a second one.
function M.lsp_config(opts)
  local cfg = S.config
  if cfg == nil or opts then
    cfg = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
    S.config = cfg
  end
  local config = client_config(cfg)
  config.root_dir = nil -- one server for the instance, whatever the buffer's project
  -- Reuse the instance's server, also one that setup() or a command started.
  config.reuse_client = function(client)
    return client.name == 'tokenwarden' and not client:is_stopped()
  end
  return config
end

--- For :checkhealth and tests.
function M._state()
  return S
end

return M
