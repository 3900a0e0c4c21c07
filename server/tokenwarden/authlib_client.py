"""authlib's async OAuth 2 client for httpx2, without the parts tokenwarden never uses.

``authlib.integrations.httpx_client`` and ``authlib.integrations.base_client`` are
packages whose ``__init__`` imports everything they offer: OAuth 1 (with RSA
signing), JWT assertions, OpenID Connect with its JOSE stack and ``cryptography``.
tokenwarden uses one class, ``AsyncOAuth2Client``, and one exception. Importing
the whole packages costs about 12 MiB of RSS and 150 ms in every process that
renews a token, and every editor window is such a process (measured in
``docs/performance.md``; the per-window goal is 60 MiB).

So the two package modules are registered bare (their ``__path__`` only, so that
their submodules still import normally) before the two submodules that hold what
tokenwarden uses are imported. Nothing of authlib's code is copied or changed.
When either package was already imported in full (the dev server or a test in the
same process), the full packages are used as they are.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

_PACKAGES = ("authlib.integrations.base_client", "authlib.integrations.httpx_client")
#: What ``httpx_client.oauth2_client`` imports from its parent package.
_BASE_CLIENT_NAMES = ("InvalidTokenError", "MissingTokenError", "OAuthError",
                      "UnsupportedTokenTypeError")


def _register_bare_packages() -> None:
    for name in _PACKAGES:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"{name} is not a package")
        package = types.ModuleType(name)
        package.__path__ = list(spec.submodule_search_locations)
        package.__package__ = name
        package.__spec__ = spec
        sys.modules[name] = package
    errors = importlib.import_module("authlib.integrations.base_client.errors")
    base = sys.modules[_PACKAGES[0]]
    for attribute in _BASE_CLIENT_NAMES:
        if not hasattr(base, attribute):
            setattr(base, attribute, getattr(errors, attribute))


def _load() -> tuple[Any, Any]:
    import authlib.integrations  # noqa: F401 - the parent package, imported normally

    _register_bare_packages()
    client = importlib.import_module("authlib.integrations.httpx_client.oauth2_client")
    errors = importlib.import_module("authlib.integrations.base_client.errors")
    httpx_package = sys.modules[_PACKAGES[1]]
    for attribute, value in (("AsyncOAuth2Client", client.AsyncOAuth2Client),
                             ("OAuthError", errors.OAuthError)):
        if not hasattr(httpx_package, attribute):
            setattr(httpx_package, attribute, value)
    return client.AsyncOAuth2Client, errors.OAuthError


AsyncOAuth2Client, OAuthError = _load()
