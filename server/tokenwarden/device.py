"""The RFC 8628 polling loop: wait for the user to approve a device code.

Rules honoured (RFC 8628 §3.4-3.5): wait ``interval`` seconds (default 5) before each
request; ``authorization_pending`` keeps polling; ``slow_down`` adds 5 seconds to the
interval for this and every later request; ``access_denied`` and ``expired_token``
stop; any other OAuth error stops; network failures back off exponentially; polling
also stops once ``expires_in`` has elapsed locally. Cancelling the task stops it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from tokenwarden.clock import Clock
from tokenwarden.errors import LoginFailed, OAuthError, TransportError
from tokenwarden.oauth import DeviceAuthorization, TokenResponse

log = logging.getLogger(__name__)

SLOW_DOWN_STEP = 5.0
MAX_NETWORK_BACKOFF = 60.0


class DevicePoller(Protocol):
    """What the loop needs from an OAuth client."""

    async def poll_device(self, device_code: str) -> TokenResponse:
        """One token request with the device code."""
        ...


async def wait_for_approval(
    client: DevicePoller, authorization: DeviceAuthorization, clock: Clock
) -> TokenResponse:
    """Poll until the user approves; LoginFailed when denied, expired or refused."""
    interval = authorization.interval
    deadline = clock.monotonic() + authorization.expires_in
    network_failures = 0
    while True:
        wait = interval * (2 ** min(network_failures, 4)) if network_failures else interval
        wait = min(wait, max(interval, MAX_NETWORK_BACKOFF))
        if clock.monotonic() + wait > deadline:
            await clock.sleep(max(0.0, deadline - clock.monotonic()))
            raise LoginFailed("the sign-in code expired before it was approved; "
                              "start the sign-in again", reason="expired_token")
        await clock.sleep(wait)
        try:
            return await client.poll_device(authorization.device_code)
        except TransportError:
            network_failures += 1
            log.info("sign-in poll failed on the network; backing off")
            continue
        except OAuthError as exc:
            code = exc.details.error
            network_failures = 0
            if code == "authorization_pending":
                continue
            if code == "slow_down":
                interval += SLOW_DOWN_STEP
                log.info("provider asked to slow down; polling every %.0f s", interval)
                continue
            if code == "access_denied":
                raise LoginFailed("the sign-in was denied", reason="access_denied") from None
            if code == "expired_token":
                raise LoginFailed("the sign-in code expired before it was approved; "
                                  "start the sign-in again", reason="expired_token") from None
            if exc.retryable:
                network_failures += 1
                continue
            raise LoginFailed(f"sign-in failed: {exc.message}", reason=code or exc.code) from None
