-- Neovim 0.11+: the base configuration of `vim.lsp.enable('tokenwarden')`.
-- Override any key with vim.lsp.config('tokenwarden', { cmd = …, init_options = … }).
return require('tokenwarden').lsp_config()
