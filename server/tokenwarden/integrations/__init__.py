"""How real consumers take a token: output formats, git's credential helper, ``setup``.

One module per consumer: ``formats`` (what ``tokenwarden token --format`` prints,
including kubectl's ``ExecCredential`` and the header JSON of an MCP
``headersHelper``), ``gitcredential`` (git's credential-helper protocol), and the
``setup`` modules that write each tool's settings.
"""
