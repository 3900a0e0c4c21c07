"""Keeping secrets out of logs that third-party libraries write.

authlib logs whole token responses at DEBUG level ("Issue token {...}") on the
server side, and httpcore's DEBUG traces are only safe because they never print
bodies. tokenwarden caps those loggers so that even ``-vv`` or a test's DEBUG
capture cannot put a token, refresh token or device code into a log.
"""

from __future__ import annotations

import logging

#: Loggers that may print secrets below INFO level.
SECRET_BEARING_LOGGERS = ("authlib",)


def silence_secret_loggers() -> None:
    """Never let the loggers above emit DEBUG records."""
    for name in SECRET_BEARING_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
