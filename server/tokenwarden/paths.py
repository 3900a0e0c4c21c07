"""Where tokenwarden keeps its files: platformdirs, or everything under $TOKENWARDEN_HOME.

Also whether a folder is safe to keep them in (``unsafe_folder``): the store, the
event log and the hand-off socket all refuse a folder another user could change.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "tokenwarden"
HOME_ENV = "TOKENWARDEN_HOME"


@dataclass(frozen=True)
class Locations:
    """The folders of one installation."""

    config_file: Path
    data_dir: Path
    log_dir: Path
    runtime_dir: Path

    @property
    def store_dir(self) -> Path:
        """Folder of the token store (0700)."""
        return self.data_dir / "store"


def locations(env: dict[str, str] | None = None) -> Locations:
    """Resolve the folders, honouring ``$TOKENWARDEN_HOME`` when set."""
    environ = os.environ if env is None else env
    home = environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser()
        return Locations(
            config_file=root / "config.toml",
            data_dir=root,
            log_dir=root / "log",
            runtime_dir=root / "run",
        )
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    runtime = Path(dirs.user_runtime_dir)
    return Locations(
        config_file=Path(dirs.user_config_dir) / "config.toml",
        data_dir=Path(dirs.user_data_dir),
        log_dir=Path(dirs.user_log_dir),
        runtime_dir=runtime,
    )


def unsafe_folder(folder: Path, *, strict_owner: bool = False) -> str | None:
    """Why ``folder`` is unsafe to keep tokens in, or None when it is safe (or not there yet).

    Unsafe: the folder or any folder it is in belongs to another user (root excepted
    for the folders it is in), or can be written by group or others without the sticky
    bit, because then someone else can replace what is in it (a planted record, a
    symlink for the event log). With ``strict_owner`` the folder itself must be the
    user's own. The path is resolved first, so a symlinked home is judged by where it
    points, and every folder on the way there is checked.
    """
    uid = os.getuid()
    path = os.path.realpath(os.path.expanduser(folder))  # plain strings: the token fast path
    first = True
    while True:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            info = None  # made later, 0700, by us
        except OSError as exc:
            return f"{path} cannot be checked ({exc.strerror})"
        if info is not None:
            problem = _unsafe(path, info, (uid,) if strict_owner and first else (uid, 0))
            if problem is not None:
                return problem
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path, first = parent, False


def _unsafe(path: str, info: os.stat_result, owners: tuple[int, ...]) -> str | None:
    if info.st_uid not in owners:
        return (f"{path} belongs to another user (uid {info.st_uid}); "
                "use a folder of your own (TOKENWARDEN_HOME)")
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        return (f"{path} can be written by other users (mode {stat.S_IMODE(info.st_mode):o}); "
                f"run: chmod go-w {path}")
    return None
