"""Where tokenwarden keeps its files: platformdirs, or everything under $TOKENWARDEN_HOME."""

from __future__ import annotations

import os
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
