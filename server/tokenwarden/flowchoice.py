"""Which sign-in flow to use: the browser where one can be opened, a device code elsewhere.

Pure functions of the profile's ``flow``, the provider's endpoints and where the user
sits (docs/signin.md explains the choice). A browser "can be opened where the user
sits" on a local desktop session: a display on Linux and the BSDs, always on macOS and
Windows, and never inside an SSH session, a dev container or a codespace, where the
loopback redirect would land on another machine than the browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenwarden.errors import ConfigError

if TYPE_CHECKING:
    from tokenwarden.oauth import Endpoints

BROWSER = "browser"
DEVICE = "device"
AUTO = "auto"
#: Set inside an SSH session (OpenSSH), a VS Code dev container, a GitHub codespace.
REMOTE_ENV = ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT", "REMOTE_CONTAINERS", "CODESPACES")
DISPLAY_ENV = ("DISPLAY", "WAYLAND_DISPLAY")


@dataclass(frozen=True)
class FlowChoice:
    """The flow to start, why, and the other one ``auto`` may fall back to once."""

    flow: str
    reason: str
    fallback: str | None = None


def remote_session(env: Mapping[str, str]) -> bool:
    """True inside SSH, a dev container or a codespace."""
    return any(env.get(name) for name in REMOTE_ENV)


def desktop_session(env: Mapping[str, str], platform: str) -> bool:
    """True when a browser opened by this process shows up where the user sits."""
    if remote_session(env):
        return False
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return True
    return any(env.get(name) for name in DISPLAY_ENV)


def choose_flow(wanted: str, endpoints: Endpoints, *, browser_possible: bool,
                profile: str) -> FlowChoice:
    """The flow for ``wanted`` (``auto``, ``browser`` or ``device``) at this provider."""
    has_browser = endpoints.authorization_endpoint is not None
    has_device = endpoints.device_authorization_endpoint is not None
    if wanted in (BROWSER, DEVICE):
        return FlowChoice(wanted, f"flow = \"{wanted}\"")
    if not has_browser and not has_device:
        raise ConfigError(
            "the provider has neither an authorization_endpoint nor a "
            "device_authorization_endpoint; set one in the profile",
            profile=profile, key="authorization_endpoint",
        )
    if not has_device:
        return FlowChoice(BROWSER, "the provider has no device authorization endpoint")
    if not has_browser:
        return FlowChoice(DEVICE, "the provider has no authorization endpoint")
    if browser_possible:
        return FlowChoice(BROWSER, "a browser can be opened here", fallback=DEVICE)
    return FlowChoice(DEVICE, "no browser can be opened here (remote or no display)",
                      fallback=BROWSER)
