"""Which upstreams the environment routes through an HTTP proxy (HTTP(S)_PROXY, NO_PROXY)."""

from __future__ import annotations

import pytest

from tokenwarden.proxy.upstream import environment_proxy

PROXY = "http://proxy.corp:3128"


@pytest.mark.parametrize(("environ", "url", "expected"), [
    ({}, "https://api.example.com", None),
    ({"HTTPS_PROXY": PROXY}, "https://api.example.com", PROXY),
    ({"https_proxy": PROXY}, "https://api.example.com/v1", PROXY),
    ({"HTTPS_PROXY": PROXY}, "http://api.example.com", None),
    ({"HTTP_PROXY": PROXY}, "http://127.0.0.1:8080", PROXY),
    ({"ALL_PROXY": PROXY}, "https://api.example.com", PROXY),
    ({"HTTPS_PROXY": ""}, "https://api.example.com", None),
])
def test_the_proxy_for_the_upstream_scheme_applies(environ, url, expected):
    assert environment_proxy(url, environ) == expected


@pytest.mark.parametrize(("no_proxy", "url", "exempt"), [
    ("*", "https://api.example.com", True),
    ("api.example.com", "https://api.example.com", True),
    ("example.com", "https://api.example.com", True),
    (".example.com", "https://api.example.com", True),
    ("ample.com", "https://api.example.com", False),
    ("localhost, 127.0.0.1", "http://127.0.0.1:9000", True),
    ("127.0.0.1:9000", "http://127.0.0.1:9000", True),
    ("127.0.0.1:9001", "http://127.0.0.1:9000", False),
    ("[::1]:443", "https://[::1]", True),
    ("::1", "https://[::1]:8443", True),
    ("", "https://api.example.com", False),
])
def test_no_proxy_exempts_matching_hosts(no_proxy, url, exempt):
    environ = {"HTTPS_PROXY": PROXY, "HTTP_PROXY": PROXY, "NO_PROXY": no_proxy}
    assert (environment_proxy(url, environ) is None) == exempt
