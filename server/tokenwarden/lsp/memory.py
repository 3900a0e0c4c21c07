"""Start-up memory: keep full garbage collections off the ``initialize`` handshake.

Importing pygls and lsprotocol creates tens of thousands of long-lived objects
(thousands of classes). Loading tokenwarden's own modules after them tips the
collector into a full collection that walks all of those for nothing (about 40 ms,
freeing a few hundred objects), while the editor waits for ``initialize``. The
framework's objects live as long as the process, so once loaded they are frozen
(``gc.freeze``): no later collection looks at them again.
"""

from __future__ import annotations

import gc


def load_framework() -> None:
    """Import pygls and lsprotocol, then take their objects out of the collector's sight."""
    import lsprotocol.types  # noqa: F401
    import pygls.lsp.server  # noqa: F401

    gc.collect(1)  # the import's young garbage: cheap to collect, not worth freezing
    gc.freeze()
