"""tokenwarden: keeps OAuth sessions of developer tools alive."""

__version__ = "0.1.0"
