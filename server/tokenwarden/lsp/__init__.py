"""The language server (``tokenwarden serve``): protocol v1 of docs/protocol.md over pygls.

A thin layer: every handler is a few lines that parse the wire payload, call the
``SessionManager`` and render its answer or events. No expiry logic lives here.

Modules: ``protocol`` (the wire contract: names, codes, payload parsers and
builders), ``options`` (initializationOptions and settings), ``handlers`` (one
function per command and method), ``server`` (the state of one editor connection
and the stdio entry point), ``signin_ui`` (what the user sees of a sign-in and of
an ending session), ``client_requests`` (server → client requests with capability
checks and timeouts), ``jsonrpc`` (pygls plumbing: plain payloads, a dispatcher
that never crashes), ``transport`` (stdio framing, fast exit), ``logbridge``
(log records to ``window/logMessage``, secrets redacted) and ``memory`` (the
framework loaded first and frozen, off the garbage collector's start-up work).
"""
