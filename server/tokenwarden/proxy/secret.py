"""The proxy's local secret: where it comes from, never the command line.

Loopback is shared by every user of the machine, and argv is not private
(``/proc/PID/cmdline``, ``ps``), so the secret comes from, in this order:

1. ``--secret-file FILE``: a file owned by the user and readable by nobody else
   (mode 0600 or stricter), or ``--secret-file -`` for the first line of stdin;
2. ``$TOKENWARDEN_PROXY_SECRET`` (``/proc/PID/environ`` is readable by the owner only);
3. otherwise the user's default secret file, ``proxy-secret`` in the runtime folder
   (see ``default_secret_file``): read when it exists, else generated and written
   there with mode 0600. Tools read it from there (Claude Code's ``apiKeyHelper``
   can be ``cat`` of it), and it stays the same across restarts of the proxy.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from tokenwarden.errors import ConfigError
from tokenwarden.paths import locations

SECRET_ENV = "TOKENWARDEN_PROXY_SECRET"  # noqa: S105 - a variable name
SECRET_FILE_NAME = "proxy-secret"  # noqa: S105 - a file name
#: Shorter secrets could be guessed by another local user trying them one by one.
MIN_SECRET_LENGTH = 16
_MAX_SECRET_BYTES = 4096


def new_secret() -> str:
    """A fresh random secret (256 bits)."""
    return secrets.token_urlsafe(32)


def default_secret_file(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``tokenwarden proxy`` keeps its secret when given none: stable per user."""
    return locations(dict(environ) if environ is not None else None).runtime_dir / \
        SECRET_FILE_NAME


def refuse_secret_argument() -> ConfigError:
    """The error for ``--secret S``: argv is readable by every local user."""
    return ConfigError(
        "--secret puts the secret in the process list, where every local user can read it; "
        f"use --secret-file FILE (mode 0600), --secret-file - (stdin) or ${SECRET_ENV}, "
        f"or give none and the proxy keeps one in {default_secret_file()}"
    )


def resolve_secret(secret_file: str | None, *, environ: Mapping[str, str] | None = None,
                   stdin: TextIO | None = None) -> tuple[str, Path | None]:
    """The secret, and the file it is in (None when it came from stdin or the environment)."""
    env = os.environ if environ is None else environ
    if secret_file == "-":  # noqa: S105 - stdin
        import sys

        return check_secret((stdin or sys.stdin).readline().strip(), "stdin"), None
    if secret_file is not None:
        path = Path(secret_file).expanduser()
        return read_secret_file(path), path
    if env.get(SECRET_ENV):
        return check_secret(env[SECRET_ENV].strip(), f"${SECRET_ENV}"), None
    path = default_secret_file(env)
    return load_or_create(path), path


def check_secret(value: str, source: str) -> str:
    """``value`` when it can be a secret: printable ASCII, no spaces, long enough."""
    if not value:
        raise ConfigError(f"the proxy secret from {source} is empty")
    if not all("!" <= ch <= "~" for ch in value):
        raise ConfigError(f"the proxy secret from {source} must be printable ASCII "
                          "without spaces (it travels in an HTTP header)")
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the proxy secret from {source} is shorter than "
                          f"{MIN_SECRET_LENGTH} characters; another local user could guess it")
    return value


def read_secret_file(path: Path) -> str:
    """The secret in ``path``, which must be a regular file of the user's, mode 0600."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"secret file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot open secret file {path}: {exc.strerror} (it must be a "
                          "regular file, not a symbolic link)") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        _check_private(path, info)
        data = handle.read(_MAX_SECRET_BYTES + 1)
    if len(data) > _MAX_SECRET_BYTES:
        raise ConfigError(f"secret file {path} is too large to hold a secret")
    text = data.decode("ascii", errors="replace").splitlines()
    return check_secret(text[0].strip() if text else "", f"secret file {path}")


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"secret file {path} is not a regular file")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ConfigError(f"secret file {path} is owned by another user (uid {info.st_uid}); "
                          "use a file of your own")
    if info.st_mode & 0o077:
        raise ConfigError(f"secret file {path} can be read by other users (mode "
                          f"{stat.S_IMODE(info.st_mode):04o}); run chmod 600 {path}")


def load_or_create(path: Path) -> str:
    """The secret in ``path``, written there first (0600) when the file does not exist."""
    if path.exists() or path.is_symlink():
        return read_secret_file(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = os.stat(path.parent)
    if (hasattr(os, "getuid") and folder.st_uid != os.getuid()) or folder.st_mode & 0o022:
        raise ConfigError(f"folder {path.parent} can be written by other users; make it "
                          f"yours and 0700, or pass --secret-file")
    secret = new_secret()
    # Written whole under a temporary name, then linked: a proxy starting at the same
    # moment reads either no file or the complete one, never half a secret.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, secret.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return read_secret_file(path)  # another proxy was first: share its secret
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return secret
