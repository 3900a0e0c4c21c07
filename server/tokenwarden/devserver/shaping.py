"""Response shaping: the one place where an OAuth answer can be bent before it is encoded.

Every OAuth endpoint's answer (discovery, device authorization, token,
revocation, userinfo) passes through ``ResponseShaper.shape`` on its way out.
The standard shaper changes nothing. A later ``--quirks PROVIDER`` mode adds
one subclass per provider here (GitHub answering errors with HTTP 200, Google
omitting the refresh token on refresh, Entra's ``ext_expires_in``, ...); quirks
that change *behaviour* rather than wire shape belong in ``grants.py`` instead.
"""

from __future__ import annotations

from .wire import HttpRequest, JsonAnswer


class ResponseShaper:
    """Standards-conforming responses, unchanged."""

    name = "standard"

    def shape(self, endpoint: str, request: HttpRequest, answer: JsonAnswer) -> JsonAnswer:
        """Return the answer as the client should see it."""
        return answer
