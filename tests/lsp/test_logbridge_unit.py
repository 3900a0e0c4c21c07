"""Secrets never leave the process in a log line."""

from __future__ import annotations

import logging

from tokenwarden.lsp.logbridge import RedactingFilter, redact


def test_token_values_are_redacted():
    line = ('Sending data: {"id": 3, "result": {"accessToken": "abc.def-ghi", '
            '"tokenType": "Bearer"}} refresh_token=xyz device_code: "q"')

    cleaned = redact(line)

    for secret in ("abc.def-ghi", "xyz", '"q"'):
        assert secret not in cleaned
    assert '"tokenType": "Bearer"' in cleaned


def test_bearer_credentials_are_redacted():
    assert "s3cr3t" not in redact("Authorization: Bearer s3cr3t")


def test_filter_rewrites_records():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s",
                               ('{"access_token": "leak"}',), None)

    RedactingFilter().filter(record)

    assert "leak" not in record.getMessage()
