-- tokenwarden user commands. They work without setup() (the server then starts
-- with the defaults on first use); call require('tokenwarden').setup{…} to configure.
if vim.g.loaded_tokenwarden then
  return
end
vim.g.loaded_tokenwarden = 1

if vim.fn.has('nvim-0.7') == 0 then
  vim.api.nvim_err_writeln('tokenwarden needs Neovim 0.7 or newer')
  return
end

local function profile_of(opts)
  local arg = opts.args
  if arg == nil or arg == '' then
    return nil
  end
  return arg
end

local command = vim.api.nvim_create_user_command

command('TokenwardenSignIn', function(opts)
  require('tokenwarden').sign_in({ profile = profile_of(opts), force = opts.bang })
end, { nargs = '?', bang = true, desc = 'tokenwarden: sign in (device code); ! signs in again' })

command('TokenwardenSignOut', function(opts)
  require('tokenwarden').sign_out({ profile = profile_of(opts) })
end, { nargs = '?', desc = 'tokenwarden: sign out and revoke the refresh token' })

command('TokenwardenStatus', function(opts)
  require('tokenwarden').show_status({ profile = profile_of(opts) })
end, { nargs = '?', desc = 'tokenwarden: show the session status' })

command('TokenwardenRefresh', function(opts)
  require('tokenwarden').refresh({ profile = profile_of(opts) })
end, { nargs = '?', desc = 'tokenwarden: renew the access token now' })

command('TokenwardenCancelSignIn', function(opts)
  require('tokenwarden').cancel_sign_in({ profile = profile_of(opts) })
end, { nargs = '?', desc = 'tokenwarden: cancel a sign-in in progress' })
