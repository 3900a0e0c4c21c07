"""``python -m tokenwarden``."""

from tokenwarden.cli.main import main

raise SystemExit(main())
