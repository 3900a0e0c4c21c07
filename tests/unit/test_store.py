"""The token store: atomic, private, and honest about unreadable files."""

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from tokenwarden.errors import StoreError
from tokenwarden.store import TokenRecord, TokenStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(**changes):
    values = dict(profile="default", issuer="https://a.example", access_token="at-1",
                  refresh_token="rt-1", obtained_at=NOW, expires_at=NOW + timedelta(hours=1))
    values.update(changes)
    return TokenRecord(**values)


def test_written_record_reads_back_equal(tmp_path):
    store = TokenStore(tmp_path / "store")
    store.write(record())
    assert store.read("default") == record()


def test_times_are_kept_to_the_millisecond(tmp_path):
    # Truncated to the second, a 6-second token would fall due up to a second early.
    store = TokenStore(tmp_path / "store")
    sent = NOW + timedelta(seconds=0.999)
    store.write(record(obtained_at=sent, expires_at=sent + timedelta(seconds=6)))
    assert store.read("default").times.expires_at == sent + timedelta(seconds=6)


def test_files_are_private(tmp_path):
    store = TokenStore(tmp_path / "store")
    store.write(record())
    assert stat.S_IMODE(store.path("default").stat().st_mode) == 0o600
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o700


def test_wider_permissions_are_repaired(tmp_path, caplog):
    store = TokenStore(tmp_path / "store")
    store.write(record())
    os.chmod(store.path("default"), 0o644)
    store.read("default")
    assert stat.S_IMODE(store.path("default").stat().st_mode) == 0o600
    assert "repaired permissions" in caplog.text


def test_missing_record_is_none(tmp_path):
    assert TokenStore(tmp_path).read("default") is None


def test_garbage_record_is_a_clear_error_and_left_in_place(tmp_path):
    store = TokenStore(tmp_path)
    store.path("default").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="default.json is not a valid tokenwarden record"):
        store.read("default")
    assert store.path("default").read_text(encoding="utf-8") == "{not json"


def test_no_temp_files_are_left_behind(tmp_path):
    store = TokenStore(tmp_path / "store")
    for generation in range(5):
        store.write(record(generation=generation))
    assert sorted(p.name for p in store.folder.iterdir()) == ["default.json"]


def test_record_on_disk_carries_a_version_and_generation(tmp_path):
    store = TokenStore(tmp_path)
    store.write(record(generation=7))
    data = json.loads(store.path("default").read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["generation"] == 7


def test_every_record_field_is_parsed_strictly_by_its_type():
    from tokenwarden.store import _PARSERS, LastError

    assert {str(f.type) for f in TokenRecord.__dataclass_fields__.values()} <= set(_PARSERS)
    full = record(client_id="c", token_endpoint="https://a.example/token",
                  revocation_endpoint=None, scopes=("openid",), account="alice",
                  generation=7, failures=2, rejected=True, next_attempt_at=NOW,
                  refresh_at=NOW, refresh_token_expires_at=NOW, ended="invalid_grant",
                  last_error=LastError("server_error", "down", "2026-01-01T00:00:00Z"))
    assert TokenRecord.from_json(json.loads(json.dumps(full.to_json()))) == full
