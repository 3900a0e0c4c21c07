-- :checkhealth tokenwarden (vim.health on 0.9+, require('health') on 0.7/0.8).
local M = {}

local function reporter()
  local h = vim.health
  if h and h.start then -- 0.9+
    return { start = h.start, ok = h.ok, warn = h.warn, error = h.error, info = h.info }
  end
  if not (h and h.report_start) then
    h = require('health') -- 0.7/0.8
  end
  return {
    start = h.report_start, ok = h.report_ok, warn = h.report_warn,
    error = h.report_error, info = h.report_info,
  }
end

function M.check()
  local r = reporter()
  local tw = require('tokenwarden')
  local S = tw._state()
  r.start('tokenwarden')

  if vim.fn.has('nvim-0.7') == 1 then
    r.ok('Neovim ' .. tostring(vim.version().major) .. '.' .. tostring(vim.version().minor)
      .. '.' .. tostring(vim.version().patch))
  else
    r.error('Neovim 0.7 or newer is required')
  end

  local cfg = S.config
  if not cfg then
    r.warn('setup() has not been called; the defaults are used on first use',
      { "require('tokenwarden').setup({ profile = 'default' })" })
  end
  local cmd = (cfg and cfg.cmd) or { 'tokenwarden', 'serve' }
  if type(cmd) ~= 'table' then
    r.info('server command: a function (not checked)')
  elseif vim.fn.executable(cmd[1]) == 1 then
    r.ok('server command: ' .. table.concat(cmd, ' ') .. ' (' .. vim.fn.exepath(cmd[1]) .. ')')
  else
    r.error('server command not found: ' .. cmd[1], {
      'install tokenwarden (pip install -e . or pipx install . in its checkout)',
      "or setup({ cmd = { '/path/to/.venv/bin/tokenwarden', 'serve' } })",
    })
  end
  local home = (cfg and cfg.cmd_env and cfg.cmd_env.TOKENWARDEN_HOME) or vim.env.TOKENWARDEN_HOME
  if home then
    r.info('TOKENWARDEN_HOME=' .. home)
  end

  if tw.is_running() then
    r.ok('server running (client id ' .. tostring(S.client_id) .. ', initialized: '
      .. tostring(S.initialized) .. ')')
    local st = tw.status()
    if st then
      local line = string.format('profile %s: %s — %s', tostring(st.profile), tostring(st.state),
        tostring(st.message))
      if st.state == 'signedIn' or st.state == 'refreshing' then
        r.ok(line)
      elseif st.state == 'expired' or st.state == 'degraded' then
        r.warn(line, { ':TokenwardenSignIn' })
      else
        r.info(line)
      end
    else
      r.info('no status received yet')
    end
  else
    r.info('server not running (it starts with setup() or on the first :Tokenwarden… command)')
  end
  if S.last_error then
    r.warn('last error: ' .. S.last_error)
  end

  if vim.fn.has('clipboard') == 1 then
    r.ok('clipboard available: user codes are copied to the + register')
  else
    r.info('no clipboard provider: user codes are only shown')
  end
  if vim.ui and vim.ui.open then
    r.ok('browser: vim.ui.open')
  elseif vim.fn.executable('xdg-open') == 1 or vim.fn.has('mac') == 1 then
    r.ok('browser: xdg-open/open')
  else
    r.info('no browser opener found: open the sign-in URL yourself')
  end
end

return M
