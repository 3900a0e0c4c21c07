"""node oidc-provider as an independent server: started from ``tests/interop/node``.

``server.mjs`` configures the provider (device flow, rotating refresh tokens,
revocation, introspection, userinfo, PKCE, a public and a confidential client) and
appends every token request and reuse event to a JSON-lines file that ``events()``
reads. Approving a code walks the provider's own pages (verification, login,
consent) with an HTTP client that keeps cookies, as a browser would.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import httpx2

from tests.interop.servers import ClientCredentials

NODE_DIR = Path(__file__).parent / "node"
PACKAGE = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
START_SECONDS = 30.0
USER = "interop-user"
PUBLIC_CLIENT = "tokenwarden-public"
CONFIDENTIAL_CLIENT = "tokenwarden-confidential"
INTROSPECTOR = "interop-resource-server"


@dataclass
class Form:
    """One HTML form: where it posts and the values a browser would send."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class FormParser(HTMLParser):
    """Collect the forms of a page (inputs with a name; buttons are not pressed)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._current = Form(values.get("action", ""), values.get("method", "get").lower())
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and values.get("name"):
            self._current.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms_of(html: str) -> list[Form]:
    """The forms of an HTML page."""
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def _missing(what: str) -> AssertionError:
    return AssertionError(
        f"oidc-provider: {what} is missing; run `npm ci` in tests/interop/node "
        "(tests/run.sh does) with Node 20 or later on PATH")


class OidcProviderServer:
    """A running ``server.mjs``; see ``tests/interop/servers.py`` for the protocol."""

    name = "oidc-provider"
    public_client_can_revoke = True

    def __init__(self, workdir: Path, *, access_token_ttl: int) -> None:
        node = shutil.which("node")
        if node is None:
            raise _missing("the `node` program")
        if not PACKAGE.exists():
            raise _missing("the npm package oidc-provider")
        self.workdir = workdir
        self.access_token_ttl = access_token_ttl
        self.events_file = workdir / "events.jsonl"
        self.events_file.touch()
        self.public_client_id = PUBLIC_CLIENT
        self.confidential_client = ClientCredentials(
            CONFIDENTIAL_CLIENT, "client_secret_post", secrets.token_urlsafe(24))
        self._introspection = (INTROSPECTOR, secrets.token_urlsafe(24))
        self._admin_secret = secrets.token_urlsafe(24)
        env = {**os.environ,
               "INTEROP_CONFIDENTIAL_SECRET": self.confidential_client.client_secret or "",
               "INTEROP_INTROSPECTION_SECRET": self._introspection[1],
               "INTEROP_ADMIN_SECRET": self._admin_secret}
        self._log = (workdir / "server.log").open("wb")
        self._process = subprocess.Popen(
            [node, "server.mjs", "--events", str(self.events_file),
             "--access-token-ttl", str(access_token_ttl)],
            cwd=NODE_DIR, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log,
        )
        banner = self._first_line()
        self.issuer: str = banner["issuer"]
        self.version: str = banner["version"]
        self._http = httpx2.Client(timeout=15, trust_env=False)
        metadata = self._http.get(f"{self.issuer}/.well-known/openid-configuration").json()
        self.metadata: dict[str, Any] = metadata

    def _first_line(self) -> dict[str, Any]:
        """The JSON banner the script prints once it listens (bounded wait)."""
        assert self._process.stdout is not None
        lines: list[bytes] = []
        reader = threading.Thread(target=lambda: lines.append(self._process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(START_SECONDS)
        if not lines or not lines[0].strip():
            self.stop()
            log = (self.workdir / "server.log").read_text(errors="replace")[-2000:]
            raise AssertionError(f"oidc-provider did not start within {START_SECONDS:.0f} s; "
                                 f"its log ends:\n{log}")
        banner: dict[str, Any] = json.loads(lines[0])
        return banner

    # ------------------------------------------------------------- as the user

    def approve(self, user_code: str) -> None:
        """Enter the code, sign in and consent on the provider's own pages."""
        with httpx2.Client(timeout=15, trust_env=False, follow_redirects=True) as browser:
            page = browser.get(f"{self.issuer}/device", params={"user_code": user_code})
            self._walk(browser, page, until="Sign-in Success")

    def authorize_in_browser(self, url: str, *, register: bool = True) -> str:
        """Sign in and consent; the redirect to the loopback callback, not followed.

        ``register`` does not matter here: any port of a loopback redirect matches.
        """
        with httpx2.Client(timeout=15, trust_env=False, follow_redirects=False) as browser:
            response = browser.get(url)
            for _ in range(20):
                if response.is_redirect:
                    target = urljoin(str(response.url), response.headers["location"])
                    if not target.startswith(self.issuer):
                        return target
                    response = browser.get(target)
                    continue
                response = self._submit(browser, response)
            raise AssertionError("oidc-provider: the authorization did not end in a redirect")

    def register_redirect(self, client_id: str, redirect_uri: str) -> None:
        """Nothing to register: any port of ``http://127.0.0.1/callback`` matches."""

    def _walk(self, browser: httpx2.Client, page: httpx2.Response, *, until: str) -> None:
        """Submit each page's form until the page that says ``until``."""
        for _ in range(10):
            if until in page.text:
                return
            page = self._submit(browser, page)
        raise AssertionError(f"oidc-provider: approving the code never reached '{until}'")

    def _submit(self, browser: httpx2.Client, page: httpx2.Response) -> httpx2.Response:
        """Fill and post the page's first form, as a user pressing its main button."""
        if page.status_code >= 400:
            raise AssertionError(f"oidc-provider: {page.url.path} answered {page.status_code}")
        forms = [form for form in forms_of(page.text) if form.method == "post"]
        if not forms:
            raise AssertionError(f"oidc-provider: {page.url.path} has no form to submit")
        form = forms[0]
        values = dict(form.fields)
        if values.get("prompt") == "login":
            values.update(login=USER, password="any")  # devInteractions take any password
        return browser.post(urljoin(str(page.url), form.action), data=values)

    # ---------------------------------------------------------- at the server

    def userinfo_accepts(self, access_token: str) -> bool:
        """userinfo answers 200 to this token."""
        response = self._http.get(self.metadata["userinfo_endpoint"],
                                  headers={"Authorization": f"Bearer {access_token}"})
        return response.status_code == 200

    def token_active(self, token: str, hint: Literal["refresh_token", "access_token"]) -> bool:
        """RFC 7662 introspection by the resource-server client."""
        response = self._http.post(self.metadata["introspection_endpoint"],
                                   data={"token": token, "token_type_hint": hint},
                                   auth=self._introspection)
        response.raise_for_status()
        return bool(response.json().get("active"))

    def revoke_grant(self) -> int:
        """End every grant through the script's admin route."""
        response = self._http.post(f"{self.issuer}/-/end-all-grants",
                                   headers={"x-interop-admin": self._admin_secret})
        response.raise_for_status()
        ended: int = response.json()["ended"]
        return ended

    def events(self) -> list[dict[str, Any]]:
        """Every event the script recorded, oldest first."""
        text = self.events_file.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def refresh_reuse_count(self) -> int:
        """Refresh tokens presented again after rotation (oidc-provider then ends the grant)."""
        return sum(1 for event in self.events()
                   if event["event"] == "grant.error" and event.get("reuse"))

    def token_requests(self, grant_type: str | None = None) -> int:
        """Requests that reached the token endpoint."""
        return sum(1 for event in self.events()
                   if event["event"] == "request" and event["path"] == "/token"
                   and (grant_type is None or event.get("grant_type") == grant_type))

    def stop(self) -> None:
        """Stop node (SIGTERM, then SIGKILL after a bounded wait)."""
        with contextlib.suppress(AttributeError):
            self._http.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()


def start(workdir: Path, *, access_token_ttl: int) -> OidcProviderServer:
    """Start oidc-provider with access tokens of ``access_token_ttl`` seconds."""
    return OidcProviderServer(workdir, access_token_ttl=access_token_ttl)
