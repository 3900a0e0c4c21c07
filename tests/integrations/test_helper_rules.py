"""Pure rules behind the helpers: which git request we answer, when kubectl should ask again."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tokenwarden.integrations.formats import ask_again_at
from tokenwarden.integrations.gitcredential import _parse_fast, configured_for, read_request

NOW = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def test_read_request_stops_at_the_blank_line_and_skips_capabilities():
    stream = io.StringIO("protocol=https\nhost=h\ncapability[]=authtype\n\nignored=1\n")
    assert read_request(stream) == {"protocol": "https", "host": "h"}


@pytest.mark.parametrize(("request_", "url", "answered"), [
    ({"protocol": "https", "host": "git.example.com"}, "https://git.example.com", True),
    ({"protocol": "https", "host": "GIT.example.com"}, "https://git.example.com", True),
    ({"protocol": "https", "host": "git.example.com:8443"}, "https://git.example.com", False),
    ({"protocol": "http", "host": "git.example.com"}, "https://git.example.com", False),
    ({"protocol": "https", "host": "evil.example.com"}, "https://git.example.com", False),
    ({"protocol": "https", "host": "git.example.com", "path": "team/a.git"},
     "https://git.example.com/team", True),
    ({"protocol": "https", "host": "git.example.com", "path": "teamx/a.git"},
     "https://git.example.com/team", False),
    ({"protocol": "https", "host": "git.example.com"}, "https://git.example.com/team", False),
    ({"protocol": "https", "host": "any.example.com"}, None, True),
    ({"protocol": "http", "host": "any.example.com"}, None, False),
    ({"protocol": "https"}, None, False),
])
def test_configured_for(request_, url, answered):
    assert configured_for(request_, url) is answered


def test_kubectl_asks_again_a_quarter_of_the_time_left_before_expiry():
    assert ask_again_at(NOW + timedelta(seconds=8), NOW) == "2026-12-01T10:00:06Z"


def test_kubectl_asks_again_at_most_a_minute_before_expiry():
    assert ask_again_at(NOW + timedelta(hours=1), NOW) == "2026-12-01T10:59:00Z"


def test_no_expiry_means_no_timestamp_and_a_dead_token_its_own_expiry():
    assert ask_again_at(None, NOW) is None
    assert ask_again_at(NOW - timedelta(seconds=5), NOW) == "2026-12-01T09:59:55Z"


@pytest.mark.parametrize(("argv", "parsed"), [
    (["get"], (None, None, "oauth2", 300.0)),
    (["--profile", "work", "--url=https://h", "--min-validity", "30", "get"],
     ("work", "https://h", "oauth2", 30.0)),
    (["-p", "w", "--username", "bot", "get"], ("w", None, "bot", 300.0)),
    (["erase"], None),
    (["store"], None),
    (["--min-validity", "soon", "get"], None),
    (["--unknown", "get"], None),
    (["get", "extra"], None),
    (["--url"], None),
])
def test_only_a_plain_get_takes_the_fast_path(argv, parsed):
    assert _parse_fast(argv) == parsed
