"""Start the tokenwarden server bundled inside the VS Code extension.

The extension runs ``python -I -S bundled/launch.py serve``: ``-I`` keeps the user's
site-packages, ``PYTHONPATH`` and the current folder out of ``sys.path``, ``-S``
the interpreter's own site-packages and their ``.pth`` start-up hooks, and this
script puts the bundled libraries first, so nothing installed on the machine can
shadow them or slow the start.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "libs"))

from tokenwarden.cli.main import main

raise SystemExit(main(sys.argv[1:]))
