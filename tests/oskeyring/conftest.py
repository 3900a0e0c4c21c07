"""A real Secret Service for the keyring-store tests.

``gnome-keyring-daemon --components=secrets`` runs inside its own ``dbus-run-session``,
unlocked with a test password given on stdin, with a HOME and XDG_DATA_HOME of its own
(so a developer's real keyring is never touched). ``tests/run.sh`` installs the Debian
packages ``gnome-keyring`` and ``dbus``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tokenwarden.config import write_profile

#: Run by dbus-run-session: print the bus address, start the unlocked daemon, then wait.
_SESSION = ('echo "$DBUS_SESSION_BUS_ADDRESS"; '
            "printf 'tokenwarden-tests' | gnome-keyring-daemon --unlock --components=secrets "
            ">/dev/null; echo started; exec sleep 3600")


@pytest.fixture(scope="session")
def secret_service_address() -> Iterator[str]:
    """The bus address of a private, unlocked gnome-keyring (one per test session)."""
    for program in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is missing: tests/run.sh installs gnome-keyring and dbus")
    root = tempfile.mkdtemp(prefix="tw-keyring-")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root,
           "XDG_DATA_HOME": os.path.join(root, "data"),
           "XDG_RUNTIME_DIR": os.path.join(root, "run")}
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    session = subprocess.Popen(["dbus-run-session", "--", "sh", "-c", _SESSION],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env, start_new_session=True)
    assert session.stdout is not None
    address = session.stdout.readline().strip()
    started = session.stdout.readline().strip()
    assert address.startswith("unix:") and started == "started", (address, started)
    try:
        yield address
    finally:
        os.killpg(session.pid, signal.SIGTERM)
        session.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def secret_service(secret_service_address: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test (and the processes it starts) talk to the private Secret Service."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service_address)
    return secret_service_address


def keyring_entries(profile: str = "default") -> list[str]:
    """The user names of a profile's entries, as the Secret Service lists them."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        return sorted(
            item.get_attributes()["username"]
            for item in secretstorage.search_items(connection, {"service": "tokenwarden"})
            if item.get_attributes().get("username", "").startswith(f"{profile}/")
        )
    finally:
        connection.close()


def set_store(home, store: str, profile: str = "default") -> None:
    """Give ``profile`` of ``home``'s config a ``store`` key."""
    from tokenwarden.config import _read_toml

    path = home / "config.toml"
    values = dict(_read_toml(path)["profiles"][profile])
    values["store"] = store
    write_profile(path, profile, values)
