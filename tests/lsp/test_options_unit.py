"""initializationOptions and settings: typed, defaulted, problems named by key."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tokenwarden.lsp.options import ServerOptions, merged, parse_options

PROFILE = {"issuer": "https://auth.example.com", "client_id": "c", "scopes": ["openid"]}


def test_nothing_means_defaults():
    assert parse_options(None, source="init") == (ServerOptions(), [])
    assert parse_options({}, source="init") == (ServerOptions(), [])


def test_every_key():
    options, problems = parse_options({
        "profile": "work", "profiles": {"work": PROFILE},
        "warnBeforeExpirySeconds": 60, "openBrowser": False,
    }, source="init")

    assert problems == []
    assert options.profile == "work"
    assert options.profiles["work"].issuer == "https://auth.example.com"
    assert options.warn_before_expiry_seconds == 60.0
    assert options.open_browser is False


def test_bad_values_fall_back_and_are_named():
    options, problems = parse_options({
        "profile": "../etc", "warnBeforeExpirySeconds": -5, "openBrowser": "yes", "extra": 1,
        "profiles": {"ok": PROFILE, "bad": {"issuer": "http://example.com", "client_id": "c"}},
    }, source="init")

    assert options.profile is None
    assert options.warn_before_expiry_seconds == 300.0
    assert options.open_browser is True
    assert list(options.profiles) == ["ok"]
    keys = {problem.key for problem in problems}
    assert keys == {"profile", "warnBeforeExpirySeconds", "openBrowser", "extra",
                    "profiles.bad.issuer"}
    assert all(problem.describe().startswith("init.") for problem in problems)


def test_not_an_object():
    options, problems = parse_options([1, 2], source="init")

    assert options == ServerOptions()
    assert len(problems) == 1


def test_huge_and_infinite_numbers_are_refused():
    for value in (10**400, float("inf"), float("nan"), True):
        options, problems = parse_options({"warnBeforeExpirySeconds": value}, source="s")
        assert options.warn_before_expiry_seconds == 300.0
        assert problems


def test_settings_override_initialization_options_key_by_key():
    assert merged({"profile": "a", "openBrowser": False}, {"profile": "b"}) == {
        "profile": "b", "openBrowser": False}
    assert merged(None, {"profile": "b"}) == {"profile": "b"}
    assert merged({"profile": "a"}, "garbage") == {"profile": "a"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
option_values = json_values | st.fixed_dictionaries({}, optional={
    "profile": json_values, "profiles": json_values | st.dictionaries(
        st.text(max_size=8), json_values | st.just(PROFILE), max_size=2),
    "warnBeforeExpirySeconds": json_values, "openBrowser": json_values,
})


@settings(max_examples=150, deadline=None)
@given(option_values)
def test_any_json_gives_options_and_named_problems(raw):
    options, problems = parse_options(raw, source="init")

    assert isinstance(options, ServerOptions)
    assert options.warn_before_expiry_seconds >= 0
    assert all(problem.describe().startswith("init") for problem in problems)
