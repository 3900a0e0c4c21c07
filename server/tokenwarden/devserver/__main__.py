"""``python -m tokenwarden.devserver``."""

import sys

from .cli import run_devserver

if __name__ == "__main__":
    sys.exit(run_devserver(sys.argv[1:]))
