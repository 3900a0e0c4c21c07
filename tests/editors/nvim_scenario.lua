-- Headless Neovim scenario driven by tests/editors/test_nvim.py:
--   nvim --headless -u NONE --cmd 'set rtp+=editors/nvim' -c 'luafile tests/editors/nvim_scenario.lua'
-- Env: TW_TEST_DIR (handshake files), TW_SERVER_BIN (tokenwarden executable).
-- Handshake: writes user_code (pytest approves it), writes token (0600; pytest
-- checks it against /userinfo and writes token_checked), writes result.json at the end.
local dir = assert(os.getenv('TW_TEST_DIR'), 'TW_TEST_DIR not set')
local server_bin = assert(os.getenv('TW_SERVER_BIN'), 'TW_SERVER_BIN not set')

local R = {
  nvim = tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) .. '.'
    .. tostring(vim.version().patch),
  steps = {},
  statuslines = {},
  states = {},
  notifications = {},
  browser = {},
}

local function write(name, text, mode)
  local path = dir .. '/' .. name
  local f = assert(io.open(path .. '.tmp', 'w'))
  f:write(text)
  f:close()
  if mode then
    (vim.uv or vim.loop).fs_chmod(path .. '.tmp', mode)
  end
  assert(os.rename(path .. '.tmp', path))
end

local function read(name)
  local f = io.open(dir .. '/' .. name, 'r')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text
end

local function step(name)
  table.insert(R.steps, name)
  write('progress', table.concat(R.steps, '\n'))
end

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 25) then
    error('timed out after ' .. ms .. ' ms waiting for ' .. what, 0)
  end
end

-- Everything the user would see.
vim.notify = function(msg, lvl)
  table.insert(R.notifications, { msg = tostring(msg), level = lvl })
end

-- -u NONE skips plugin/ scripts: load the commands the way a plugin manager would.
vim.cmd('runtime plugin/tokenwarden.lua')
local tw = require('tokenwarden')

local function capture(label)
  local st = tw.status()
  local rendered = nil
  if vim.api.nvim_eval_statusline then
    rendered = vim.api.nvim_eval_statusline(vim.o.statusline, { maxwidth = 80 }).str
  end
  table.insert(R.statuslines, {
    label = label,
    statusline = tw.statusline(),
    rendered = rendered,
    state = st and st.state,
    message = st and st.message,
  })
end

local function run()
  -- The way a user puts it in a status line (lualine: require('tokenwarden').lualine).
  vim.o.laststatus = 2
  vim.o.fillchars = 'stl: ,stlnc: '
  vim.o.statusline = [[%f %m%=%{v:lua.require'tokenwarden'.statusline()} ]]
  vim.cmd('file scratch.txt')

  -- Time helpers (pure Lua): UTC parsing whatever the local zone, and durations.
  R.parse_utc = {
    tw._parse_utc('1970-01-01T00:00:10Z'),
    tw._parse_utc('2026-11-27T07:00:00.5Z') - tw._parse_utc('2026-11-27T07:00:00Z'),
    tw._parse_utc('2026-11-27T08:00:00+01:00') - tw._parse_utc('2026-11-27T07:00:00Z'),
  }
  R.humanize = { tw._humanize(3), tw._humanize(125), tw._humanize(7500) }

  local selects = {}
  tw.setup({
    cmd = { server_bin, 'serve' },
    profile = 'default',
    open_browser = function(url)
      table.insert(R.browser, url)
      return true
    end,
    on_status = function(st)
      if st.state == 'refreshing' and not R.saw_refreshing then
        R.saw_refreshing = true
        capture('renewing')
      end
      local last = R.states[#R.states]
      if not last or last.state ~= st.state or last.expiresAt ~= st.expiresAt then
        table.insert(R.states, { state = st.state, expiresAt = st.expiresAt, message = st.message })
      end
    end,
    ui_select = function(items, opts, on_choice)
      table.insert(selects, { prompt = opts.prompt, n = #items })
      on_choice(items[2]) -- "Later"
    end,
  })
  step('setup')
  -- A second start() before the server answered must not start a second server.
  local first_id = tw.start()
  R.same_client_id = tw.start() == first_id

  wait(20000, function()
    return tw.status() ~= nil
  end, 'the first status')
  local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
  R.client_count = #get_clients()
  tw.start()
  R.client_count_after_restart = #get_clients()
  if vim.fn.has('nvim-0.8') == 1 then
    R.attached_buffers = #get_clients({ bufnr = 0 })
  else
    R.attached_buffers = #vim.tbl_keys(vim.lsp.buf_get_clients(0))
  end
  capture('started')
  R.initial_state = tw.status().state
  step('started')

  vim.cmd('TokenwardenSignIn')
  wait(10000, function()
    return tw.pending_login() ~= nil
  end, 'the user code')
  local login = tw.pending_login()
  R.user_code_shape = login.userCode:gsub('%w', 'X')
  R.verification_uri = login.verificationUri
  write('user_code', login.userCode)
  capture('signing in')
  step('code shown')

  wait(20000, function()
    local st = tw.status()
    return st and st.state == 'signedIn'
  end, 'signedIn')
  capture('signed in')
  R.account = tw.status().account
  local first_expiry = tw.status().expiresAt
  step('signed in')

  -- Silent renewal: the 4 s access token is renewed by the server on its own.
  wait(15000, function()
    local st = tw.status()
    return st and st.state == 'signedIn' and st.expiresAt ~= first_expiry
  end, 'a silent renewal (expiresAt to change)')
  capture('renewed')
  R.renewed = true
  step('renewed')

  -- get_token: the pytest side checks it against the dev server's /userinfo.
  local token, err = tw.get_token_sync({ minValiditySeconds = 1 }, 10000)
  if not token then
    error('get_token failed: ' .. vim.inspect(err), 0)
  end
  R.token_type = token.tokenType
  R.token_scopes = token.scopes
  R.token_expires_at = token.expiresAt
  write('token', token.accessToken, 384) -- 0600
  wait(10000, function()
    return read('token_checked') ~= nil
  end, 'the test to check the token')
  R.token_checked = vim.trim(read('token_checked'))
  step('token checked')

  -- tokenRejected: the API said 401 with this token; the server renews and
  -- answers with another one.
  local renewed = nil
  tw.token_rejected(token.accessToken, function(e, t)
    renewed = { err = e, token = t }
  end)
  wait(10000, function()
    return renewed ~= nil
  end, 'the tokenRejected answer')
  R.token_rejected = {
    ok = renewed.token ~= nil,
    different = renewed.token ~= nil and renewed.token.accessToken ~= token.accessToken,
    err = renewed.err and renewed.err.message,
  }
  step('token rejected')

  -- :TokenwardenRefresh forces a renewal.
  local before = tw.status().expiresAt
  local refreshed = nil
  tw.refresh({}, function(e, st)
    refreshed = { err = e, state = st and st.state, expiresAt = st and st.expiresAt }
  end)
  wait(10000, function()
    return refreshed ~= nil
  end, 'the refresh command')
  R.refresh = { state = refreshed.state, changed = refreshed.expiresAt ~= before,
                err = refreshed.err and refreshed.err.message }
  step('refreshed')

  -- :TokenwardenStatus goes through the server.
  local shown = #R.notifications
  vim.cmd('TokenwardenStatus')
  wait(5000, function()
    return #R.notifications > shown
  end, 'the status notification')
  R.status_notification = R.notifications[#R.notifications].msg
  step('status')

  -- window/showMessageRequest never blocks: answered at once, asked through vim.ui.select.
  local answer = tw.handlers['window/showMessageRequest'](nil, {
    type = 2, message = 'tokenwarden: session ends soon',
    actions = { { title = 'Sign in' }, { title = 'Later' } },
  }, { method = 'window/showMessageRequest', client_id = tw._state().client_id })
  R.message_request_answer_is_null = answer == vim.NIL
  wait(2000, function()
    return #selects > 0
  end, 'vim.ui.select')
  R.ui_select_calls = #selects
  step('message request')

  capture('before sign-out')
  vim.cmd('TokenwardenSignOut')
  wait(10000, function()
    local st = tw.status()
    return st and st.state == 'signedOut'
  end, 'signedOut')
  capture('signed out')
  step('signed out')

  local gone, gone_err = tw.get_token_sync({}, 10000)
  R.get_token_after_sign_out = { ok = gone ~= nil, code = gone_err and gone_err.code }

  -- Health check runs without errors.
  local ok_health, health_err = pcall(vim.cmd, 'checkhealth tokenwarden')
  R.checkhealth = ok_health and table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
    or ('error: ' .. tostring(health_err))
  step('checkhealth')
end

-- The server warns before a session that cannot be renewed silently ends (here:
-- refresh tokens with a short absolute lifetime): window/showMessageRequest.
-- The first answer is "Sign in" (a second device code, approved by the test),
-- later ones "Later".
local function run_expiry()
  R.prompts = {}
  -- Count sign-ins: the question (and the second code) may come before a poll
  -- would see the signedIn state.
  local sign_ins, last_state = 0, nil
  tw.setup({
    on_status = function(st)
      if st.state == 'signedIn' and last_state == 'signingIn' then
        sign_ins = sign_ins + 1
      end
      last_state = st.state
    end,
    cmd = { server_bin, 'serve' },
    profile = 'default',
    warn_before_expiry_seconds = 300,
    open_browser = function(url)
      table.insert(R.browser, url)
      return true
    end,
    ui_select = function(items, opts, on_choice)
      table.insert(R.prompts, opts.prompt)
      local want = #R.prompts == 1 and 'Sign in' or 'Later'
      for _, item in ipairs(items) do
        if item.title == want then
          return on_choice(item)
        end
      end
      on_choice(nil)
    end,
  })
  wait(20000, function()
    return tw.status() ~= nil
  end, 'the first status')
  step('started')
  vim.cmd('TokenwardenSignIn')
  wait(10000, function()
    return tw.pending_login() ~= nil
  end, 'the user code')
  local first = tw.pending_login().userCode
  write('user_code', first)
  wait(20000, function()
    return sign_ins >= 1
  end, 'signedIn')
  step('signed in')
  wait(15000, function()
    return #R.prompts >= 1
  end, 'the expiry question')
  step('asked')
  wait(10000, function()
    local login = tw.pending_login()
    return login ~= nil and login.userCode ~= first
  end, 'a second user code after "Sign in"')
  write('user_code', tw.pending_login().userCode)
  step('second code')
  wait(20000, function()
    return sign_ins >= 2
  end, 'signedIn again')
  capture('signed in again')
  R.second_sign_in = true
  step('signed in again')
  vim.cmd('TokenwardenSignOut')
  wait(10000, function()
    local st = tw.status()
    return st and st.state == 'signedOut'
  end, 'signedOut')
  step('signed out')
end

-- Neovim 0.11+'s own setup: lsp/tokenwarden.lua on the runtime path, then
-- vim.lsp.config + vim.lsp.enable, no setup() call. The server starts with the
-- first file buffer; a second buffer reuses it; the commands use that client.
local function run_native()
  local get = function()
    return vim.lsp.get_clients({ name = 'tokenwarden' })
  end
  vim.ui.open = function(url) -- the plugin's default opener, recorded
    table.insert(R.browser, url)
    return {}, nil
  end
  vim.lsp.config('tokenwarden', {
    cmd = { server_bin, 'serve' },
    init_options = { profile = 'default' },
  })
  vim.cmd('filetype on') -- -u NONE leaves it off; vim.lsp.enable starts on FileType
  vim.lsp.enable('tokenwarden')
  R.config_cmd = vim.lsp.config.tokenwarden.cmd[1] == server_bin
  R.clients_before_a_file = #get()
  step('enabled')
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/notes.txt'))
  wait(20000, function()
    return tw.status() ~= nil
  end, 'the first status (server started by vim.lsp.enable)')
  R.initial_state = tw.status().state
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/other.lua'))
  vim.wait(500)
  R.client_count = #get()
  step('started')

  vim.cmd('TokenwardenSignIn')
  wait(10000, function()
    return tw.pending_login() ~= nil
  end, 'the user code')
  write('user_code', tw.pending_login().userCode)
  wait(20000, function()
    local st = tw.status()
    return st and st.state == 'signedIn'
  end, 'signedIn')
  capture('signed in')
  R.account = tw.status().account
  step('signed in')

  local token, err = tw.get_token_sync({ minValiditySeconds = 1 }, 10000)
  if not token then
    error('get_token failed: ' .. vim.inspect(err), 0)
  end
  write('token', token.accessToken, 384) -- 0600
  wait(10000, function()
    return read('token_checked') ~= nil
  end, 'the test to check the token')
  R.token_checked = vim.trim(read('token_checked'))
  step('token checked')

  vim.cmd('TokenwardenSignOut')
  wait(10000, function()
    local st = tw.status()
    return st and st.state == 'signedOut'
  end, 'signedOut')
  capture('signed out')
  R.client_count_at_end = #get()
  step('signed out')
end

local scenarios = { expiry = run_expiry, native = run_native }
local scenario = scenarios[os.getenv('TW_SCENARIO') or ''] or run
local ok, err = xpcall(scenario, debug.traceback)
R.ok = ok
if not ok then
  R.error = tostring(err)
end
-- Stop the server and wait (bounded) for it to exit.
pcall(tw.stop)
vim.wait(5000, function()
  return not tw.is_running()
end, 50)
R.server_stopped = not tw.is_running()
write('result.json', vim.json.encode(R))
vim.cmd(ok and 'qa!' or 'cquit! 1')
