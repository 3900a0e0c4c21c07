"""``python -m tokenwarden.proxy``: the same as ``tokenwarden proxy``."""

from tokenwarden.proxy.command import main

raise SystemExit(main())
