"""``tokenwarden login`` as a subprocess, with the environment of a desktop or an SSH session."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

REMOTE_ENV = ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT", "REMOTE_CONTAINERS", "CODESPACES")
DISPLAY_ENV = ("DISPLAY", "WAYLAND_DISPLAY")
URL_LINE = re.compile(r"^\s+(http\S+)\s*$")
CODE_LINE = re.compile(r"enter the code: (\S+)")
WAIT_SECONDS = 60.0
RECORDER = """import pathlib, sys
pathlib.Path(sys.argv[1]).write_text(sys.argv[2])
"""


def login_env(home: Path, *, desktop: bool = False, ssh: bool = False,
              browser_log: Path | None = None) -> dict[str, str]:
    """A private home; a display or not; an SSH session or not; $BROWSER recording the URL."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKENWARDEN_") and k not in REMOTE_ENV + DISPLAY_ENV
           and k != "BROWSER"}
    env["TOKENWARDEN_HOME"] = str(home)
    if desktop:
        env["DISPLAY"] = ":99"
    if ssh:
        env["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
    if browser_log is not None:
        script = browser_log.with_suffix(".py")
        script.write_text(RECORDER)
        # webbrowser runs $BROWSER with the URL in place of %s: a browser that writes it down.
        env["BROWSER"] = f"{sys.executable} {script} {browser_log} %s"
    return env


class LoginProcess:
    """A running ``tokenwarden login``; its output read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    @classmethod
    async def start(cls, env: dict[str, str], *args: str) -> LoginProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tokenwarden", "login", *args, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        return cls(process)

    async def instructions(self) -> tuple[str, str]:
        """("browser", URL) or ("device", user code): what the command asked the user."""
        assert self.process.stdout is not None
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                line = (await self.process.stdout.readline()).decode()
                if not line:
                    raise AssertionError("login ended before it showed how to sign in:\n"
                                         + "".join(self.lines) + await self.stderr())
                self.lines.append(line)
                if match := URL_LINE.match(line):
                    return "browser", match.group(1)
                if match := CODE_LINE.search(line):
                    return "device", match.group(1)

    async def finish(self) -> tuple[int, str, str]:
        """Exit code, the rest of stdout, stderr."""
        async with asyncio.timeout(WAIT_SECONDS):
            out, err = await self.process.communicate()
        return self.process.returncode or 0, "".join(self.lines) + out.decode(), err.decode()

    async def stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def recorded_url(browser_log: Path) -> str:
    """The URL the recording browser was asked to open (waited for, bounded)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while not browser_log.exists() or not browser_log.read_text():
            await asyncio.sleep(0.05)
    return browser_log.read_text()
