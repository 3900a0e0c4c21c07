"""Command-line surfaces: ``tokenwarden token | login | logout | status | serve | ...``."""
