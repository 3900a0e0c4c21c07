"""Response shaping: the one place where an OAuth answer can be bent before it is encoded.

Every OAuth endpoint's answer (discovery, device authorization, token,
revocation, userinfo) passes through ``ResponseShaper.shape`` on its way out.
The standard shaper changes nothing. ``--quirks PROVIDER`` (``DevServerConfig.quirks``)
picks one subclass per provider from ``quirks.py`` (GitHub answering errors with
HTTP 200, Google omitting the refresh token on refresh, Entra's ``ext_expires_in``,
...); quirks that change *behaviour* rather than wire shape belong in ``grants.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wire import HttpRequest, JsonAnswer

if TYPE_CHECKING:
    from .config import DevServerConfig
    from .state import DevState


class ResponseShaper:
    """Standards-conforming responses, unchanged."""

    name = "standard"

    def shape(self, endpoint: str, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """Return the answer as the client should see it."""
        return answer


def shaper_for(config: DevServerConfig, state: DevState) -> ResponseShaper:
    """The shaper ``config.quirks`` asks for; the standard one without quirks."""
    if config.quirks is None:
        return ResponseShaper()
    from .quirks import quirks_shaper

    return quirks_shaper(config.quirks, state)
