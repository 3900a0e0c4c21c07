"""Debian's Glewlwyd as an independent server: its own binary, database and admin API.

The Debian service does not start in a container, so ``start`` runs the ``glewlwyd``
binary with a config file of its own under ``workdir``: 127.0.0.1 on an ephemeral
port, a SQLite database made from the package's own init script, the package's
static pages, Prometheus metrics on a second ephemeral port. Everything else is
configured through Glewlwyd's admin REST API, as an administrator would: a test user
with a password, the scopes tokenwarden asks for, an OpenID Connect plugin instance
whose issuer has a path (``…/api/oidc``) with the device grant, one-time-use
(rotating) refresh tokens, JWT access tokens of ``access_token_ttl`` seconds,
userinfo, introspection and revocation, and three clients (public, confidential,
and a resource server that may introspect).

Approving a code is what Glewlwyd's own login page does over HTTP: follow the
verification URL, sign in with the password, grant the scopes to the client, go
back to the callback it named. Nothing here prints a token or a secret.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2

from tests.interop.servers import SCOPES, ClientCredentials

PACKAGE = "glewlwyd"
#: The binary, modules and init script are in ``glewlwyd``, its web pages in this one.
COMMON_PACKAGE = "glewlwyd-common"
START_SECONDS = 30.0
#: The package's init script creates this administrator; ``start`` changes the password.
INITIAL_ADMIN = ("admin", "password")
USER = "interop-user"
PUBLIC_CLIENT = "tokenwarden-public"
CONFIDENTIAL_CLIENT = "tokenwarden-confidential"
INTROSPECTOR = "interop-resource-server"
INTROSPECT_SCOPE = "interop.introspect"
PLUGIN = "oidc"
#: Glewlwyd's ``gpo_access_token.gpoa_authorization_type`` for each grant it answered.
AUTHORIZATION_TYPES = {"authorization_code": 0, "refresh_token": 6,
                       "urn:ietf:params:oauth:grant-type:device_code": 8}
#: Prometheus counters of refused grants (refresh tokens and device codes).
REFUSED_METRICS = {"refresh_token": "glewlwyd_oidc_invalid_refresh_token_total",
                   "urn:ietf:params:oauth:grant-type:device_code":
                       "glewlwyd_oidc_invalid_device_code_total"}
#: Counters are read until two reads this far apart agree (at most this many times).
SETTLE_SECONDS, SETTLE_READS = 0.5, 10
#: A redirect URI the public client starts with (Glewlwyd matches redirect URIs exactly).
PLACEHOLDER_REDIRECT = "http://127.0.0.1/callback"

CONFIG = """\
port={port}
bind_address="127.0.0.1"
external_url="{base}"
login_url="login.html"
api_prefix="api"
static_files_path="{webapp}/"
allow_origin="*"
log_mode="console"
log_level="INFO"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
plugin_api_run_enabled=""
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="{modules}/user"
client_module_path="{modules}/client"
user_auth_scheme_module_path="{modules}/scheme"
plugin_module_path="{modules}/plugin"
hash_algorithm="SHA512"
database = {{ type = "sqlite3"
  path = "{database}" }};
metrics_endpoint=true
metrics_bind_address="127.0.0.1"
metrics_endpoint_port={metrics_port}
metrics_endpoint_admin_session=false
static_files_mime_types = (
  {{ extension = ".html"
    mime_type = "text/html" }},
  {{ extension = ".js"
    mime_type = "application/javascript" }},
  {{ extension = ".json"
    mime_type = "application/json" }},
  {{ extension = ".css"
    mime_type = "text/css" }}
)
"""


def _missing(what: str) -> AssertionError:
    return AssertionError(
        f"glewlwyd: {what} is missing; install the Debian packages `glewlwyd` and "
        "`sqlite3` (tests/run.sh does: apt-get install glewlwyd sqlite3)")


def package_files() -> list[Path]:
    """Every file the installed ``glewlwyd`` packages own (``dpkg -L``)."""
    if shutil.which("dpkg-query") is None:
        raise _missing("dpkg-query (to find the package's files)")
    listing = subprocess.run(["dpkg-query", "-L", PACKAGE, COMMON_PACKAGE], capture_output=True, text=True,
                             check=False, timeout=30)
    if listing.returncode != 0:
        raise _missing("the Debian package")
    return [Path(line) for line in listing.stdout.splitlines() if line.startswith("/")]


def _one(files: list[Path], what: str, *, suffix: str) -> Path:
    found = [path for path in files if path.as_posix().endswith(suffix)]
    if not found:
        raise _missing(f"{what} ({suffix})")
    return found[0]


def free_port() -> int:
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def pkce_pair() -> tuple[str, str]:
    """An RFC 7636 S256 (verifier, challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


class GlewlwydServer:
    """A running Glewlwyd; see ``tests/interop/servers.py`` for the protocol."""

    name = "glewlwyd"
    #: Its revocation endpoint takes HTTP Basic client credentials or an access token
    #: with a configured scope; a public client has neither and gets 401.
    public_client_can_revoke = False

    def __init__(self, workdir: Path, *, access_token_ttl: int) -> None:
        binary = shutil.which(PACKAGE)
        if binary is None:
            raise _missing("the `glewlwyd` program")
        files = package_files()
        self.workdir = workdir
        self.access_token_ttl = access_token_ttl
        self.version = _version(binary)
        self.port, self.metrics_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.base}/api/{PLUGIN}"
        self.public_client_id = PUBLIC_CLIENT
        self.confidential_client = ClientCredentials(
            CONFIDENTIAL_CLIENT, "client_secret_basic", secrets.token_urlsafe(24))
        self._introspector = (INTROSPECTOR, secrets.token_urlsafe(24))
        self._user_password = secrets.token_urlsafe(18)
        self.database = workdir / "glewlwyd.sqlite3"
        self.log_path = workdir / "glewlwyd.log"
        _create_database(self.database, _one(files, "the SQLite init script",
                                             suffix="/install/sqlite3"))
        config = workdir / "glewlwyd.conf"
        config.write_text(CONFIG.format(
            port=self.port, base=self.base, metrics_port=self.metrics_port,
            database=self.database,
            webapp=_one(files, "the web pages", suffix="/webapp/login.html").parent,
            modules=_one(files, "the plugin modules",
                         suffix="/plugin/libprotocol_oidc.so").parent.parent,
        ), encoding="utf-8")
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen([binary, "--config-file", str(config)],
                                         cwd=workdir, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT)
        self._http = httpx2.Client(timeout=15, trust_env=False)
        try:
            self._wait_until_listening()
            self._admin = httpx2.Client(base_url=f"{self.base}/api", timeout=15,
                                        trust_env=False)
            self._configure()
        except BaseException:
            self.stop()
            raise

    # ---------------------------------------------------------------- start-up

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            with contextlib.suppress(httpx2.TransportError):
                self._http.get(f"{self.base}/api/auth/scheme/")
                return
            time.sleep(0.2)
        raise AssertionError(f"glewlwyd did not start within {START_SECONDS:.0f} s "
                             f"(exit code {self._process.poll()}); {self.log_tail()}")

    def _configure(self) -> None:
        """Users, scopes, clients and the OIDC plugin, through the admin REST API."""
        self._expect(self._admin.post("/auth/", json=dict(zip(("username", "password"),
                                                               INITIAL_ADMIN, strict=True))),
                     "admin sign-in")
        for scope in (*[s for s in SCOPES if s != "openid"], INTROSPECT_SCOPE):
            self._expect(self._admin.post("/scope/", json={
                "name": scope, "display_name": scope, "description": f"interop {scope}",
                "password_required": scope != INTROSPECT_SCOPE, "password_max_age": 0,
                "scheme": {}}), f"scope {scope}")
        self._expect(self._admin.post("/user/", json={
            "username": USER, "password": self._user_password, "name": "Interop User",
            "email": f"{USER}@example.test", "scope": list(SCOPES), "enabled": True,
        }), "test user")
        self._add_client(PUBLIC_CLIENT, None, ["device_authorization", "refresh_token", "code"])
        self._add_client(CONFIDENTIAL_CLIENT, self.confidential_client.client_secret,
                         ["device_authorization", "refresh_token", "code"])
        self._add_client(INTROSPECTOR, self._introspector[1], ["client_credentials"],
                         scope=[INTROSPECT_SCOPE])
        self._expect(self._admin.post("/mod/plugin/", json={
            "module": "oidc", "name": PLUGIN, "display_name": "tokenwarden interop",
            "enabled": True, "parameters": self._plugin_parameters()}), "OIDC plugin")
        self._expect(self._admin.put(f"/user/{INITIAL_ADMIN[0]}", json={
            "name": "Interop administrator", "scope": ["g_admin", "g_profile"],
            "password": secrets.token_urlsafe(18), "enabled": True,
        }), "admin password change")
        metadata = self._http.get(f"{self.issuer}/.well-known/openid-configuration")
        self._expect(metadata, "discovery")
        self.metadata = metadata.json()

    def _add_client(self, client_id: str, secret: str | None, grants: list[str], *,
                    scope: list[str] | None = None) -> None:
        client: dict[str, object] = {
            "client_id": client_id, "client_name": client_id, "enabled": True,
            "confidential": secret is not None, "authorization_type": grants,
            "redirect_uri": [PLACEHOLDER_REDIRECT], "scope": scope or []}
        if secret is not None:
            # Without token_endpoint_auth_method a confidential client cannot authenticate.
            client.update(client_secret=secret, token_endpoint_auth_method=["client_secret_basic"])
        self._expect(self._admin.post("/client/", json=client), f"client {client_id}")

    def _plugin_parameters(self) -> dict[str, object]:
        return {
            "iss": self.issuer, "jwt-type": "sha", "jwt-key-size": "256",
            "key": secrets.token_urlsafe(32),
            "access-token-duration": self.access_token_ttl, "refresh-token-duration": 3600,
            "code-duration": 600, "refresh-token-rolling": True,
            "refresh-token-one-use": "always",
            "client-refresh-token-one-use-parameter": "refresh-token-one-use",
            "allow-non-oidc": True, "auth-type-code-enabled": True,
            "auth-type-token-enabled": False, "auth-type-id-token-enabled": True,
            "auth-type-none-enabled": True, "auth-type-password-enabled": False,
            "auth-type-client-enabled": True, "auth-type-device-enabled": True,
            "auth-type-refresh-enabled": True, "auth-type-code-revoke-replayed": True,
            "scope": [], "additional-parameters": [], "claims": [],
            "allowed-scope": [*SCOPES, INTROSPECT_SCOPE],
            "pkce-allowed": True, "pkce-method-plain-allowed": False,
            "introspection-revocation-allowed": True,
            "introspection-revocation-auth-scope": [INTROSPECT_SCOPE],
            "introspection-revocation-allow-target-client": True,
            "device-authorization-expiration": 600, "device-authorization-interval": 2,
            "jwks-show": True, "request-parameter-allow": False,
            "name-claim": "mandatory", "name-claim-scope": ["profile"],
            "email-claim": "mandatory", "email-claim-scope": ["email"],
            "scope-claim": "no", "address-claim": {"type": "no"}, "secret-type": "pairwise",
            "session-management-allowed": False,
        }

    def _expect(self, response: httpx2.Response, what: str) -> None:
        if response.status_code != 200:
            raise AssertionError(f"glewlwyd: {what} answered HTTP {response.status_code}; "
                                 f"{self.log_tail()}")

    # ------------------------------------------------------------- as the user

    @contextlib.contextmanager
    def _signed_in_browser(self) -> Iterator[httpx2.Client]:
        """A cookie-keeping client signed in as the test user (the password scheme)."""
        with httpx2.Client(base_url=f"{self.base}/api", timeout=15, trust_env=False,
                           follow_redirects=False) as browser:
            self._expect(browser.post("/auth/", json={"username": USER,
                                                      "password": self._user_password}),
                         "user sign-in")
            yield browser

    def approve(self, user_code: str) -> None:
        """Verification page, sign-in and consent, as Glewlwyd's login page does them.

        The consent matters: sent back with ``g_continue`` at once, Glewlwyd completes
        the code with only the scopes that need none (``openid``).
        """
        with self._signed_in_browser() as browser:
            page = browser.get(f"{self.issuer}/device", params={"code": user_code})
            for _ in range(4):
                target = self._login_page_target(page, "device verification")
                if target.get("prompt") == ["deviceComplete"]:
                    return
                if "client_id" in target:
                    self._consent(browser, target)
                page = browser.get(_continued(target["callback_url"][0]))
            raise AssertionError("glewlwyd: the device verification never completed; "
                                 f"{self.log_tail()}")

    def authorize_in_browser(self, url: str, *, register: bool = True) -> str:
        """Sign in and consent; the redirect to the loopback callback, not followed.

        Glewlwyd compares redirect URIs exactly (no loopback port rule, RFC 8252
        §7.3), so with ``register`` the administrator first registers the one ``url``
        names.
        """
        if register:
            query = parse_qs(urlsplit(url).query)
            self.register_redirect(query["client_id"][0], query["redirect_uri"][0])
        with self._signed_in_browser() as browser:
            page = browser.get(url)
            for _ in range(4):
                location = urljoin(str(page.url), page.headers.get("location", ""))
                if page.is_redirect and not location.startswith(self.base):
                    return location
                target = self._login_page_target(page, "authorization")
                if "client_id" in target:
                    self._consent(browser, target)
                page = browser.get(_continued(target["callback_url"][0]))
            raise AssertionError("glewlwyd: the authorization did not end in a redirect")

    def _login_page_target(self, page: httpx2.Response, what: str) -> dict[str, list[str]]:
        """The query of the redirect to Glewlwyd's login page (what it will ask)."""
        location = page.headers.get("location", "")
        if not page.is_redirect or "login.html" not in location:
            raise AssertionError(f"glewlwyd: {what} answered HTTP {page.status_code} "
                                 "instead of sending the browser to its login page")
        return parse_qs(urlsplit(location).query, keep_blank_values=True)

    def _consent(self, browser: httpx2.Client, target: dict[str, list[str]]) -> None:
        client_id, scope = target["client_id"][0], target.get("scope", [""])[0]
        self._expect(browser.put(f"/auth/grant/{client_id}", json={"scope": scope}),
                     f"consent for {client_id}")

    def register_redirect(self, client_id: str, redirect_uri: str) -> None:
        """Add ``redirect_uri`` to the client's list, as its administrator would."""
        found = self._admin.get(f"/client/{client_id}")
        self._expect(found, f"client {client_id}")
        client = found.json()
        if redirect_uri not in client.get("redirect_uri", []):
            client["redirect_uri"] = [*client.get("redirect_uri", []), redirect_uri]
            client.pop("source", None)
            self._expect(self._admin.put(f"/client/{client_id}", json=client),
                         f"redirect URI for {client_id}")

    # ---------------------------------------------------------- at the server

    def userinfo_accepts(self, access_token: str) -> bool:
        """userinfo answers 200 to this token (Glewlwyd checks revocation there)."""
        response = self._http.get(self.metadata["userinfo_endpoint"],
                                  headers={"Authorization": f"Bearer {access_token}"})
        return response.status_code == 200

    def token_active(self, token: str, hint: Literal["refresh_token", "access_token"]) -> bool:
        """RFC 7662 introspection, authorized by a resource server's own access token."""
        response = self._http.post(
            self.metadata["introspection_endpoint"],
            data={"token": token, "token_type_hint": hint},
            headers={"Authorization": f"Bearer {self._introspector_token()}"})
        self._expect(response, "introspection")
        return bool(response.json().get("active"))

    def _introspector_token(self) -> str:
        """A fresh client-credentials token (they live only ``access_token_ttl``)."""
        response = self._http.post(self.metadata["token_endpoint"],
                                   data={"grant_type": "client_credentials",
                                         "scope": INTROSPECT_SCOPE},
                                   auth=self._introspector)
        self._expect(response, "the resource server's client-credentials grant")
        token: str = response.json()["access_token"]
        return token

    def revoke_grant(self) -> int:
        """Disable every refresh token of the test user, as on its profile page."""
        with self._signed_in_browser() as browser:
            listing = browser.get(f"/{PLUGIN}/token", params={"limit": 1000})
            self._expect(listing, "the user's refresh-token list")
            ended = 0
            for entry in listing.json():
                if entry.get("enabled"):
                    hashed = urlencode({"": entry["token_hash"]})[1:]
                    self._expect(browser.delete(f"/{PLUGIN}/token/{hashed}"),
                                 "disabling a refresh token")
                    ended += 1
            return ended

    def refresh_reuse_count(self) -> int:
        """Refused refresh tokens, which here is every refresh-token reuse and more.

        Glewlwyd records no reuse event of its own (a replayed one-time token is just
        ``invalid``, and it disables the chain): its counter of refused refresh tokens
        counts reuse, revoked and unknown tokens alike. Over a period in which nothing
        is revoked, a non-zero difference therefore means reuse; it never under-counts.
        """
        return self._settled(lambda: self._metric(REFUSED_METRICS["refresh_token"]))

    def token_requests(self, grant_type: str | None = None) -> int:
        """Token requests Glewlwyd answered with a token or refused as an invalid grant.

        Issued tokens come from its database (one row per access token, with the
        grant), refusals from its metrics; device-code polls still pending are not
        counted anywhere by Glewlwyd, so they are not here either.
        """
        kinds = [grant_type] if grant_type else list(AUTHORIZATION_TYPES)

        def count() -> int:
            issued = sum(self._issued(kind) for kind in kinds)
            return issued + sum(self._metric(REFUSED_METRICS[kind]) for kind in kinds
                                if kind in REFUSED_METRICS)

        return self._settled(count)

    @staticmethod
    def _settled(read: Callable[[], int]) -> int:
        """A count read until two reads agree (its counters lag its answers under load)."""
        last = read()
        for _ in range(SETTLE_READS):
            time.sleep(SETTLE_SECONDS)
            current = read()
            if current == last:
                return current
            last = current
        return last

    def _issued(self, grant_type: str) -> int:
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro",
                                                uri=True, timeout=10)) as db:
            row = db.execute("SELECT count(*) FROM gpo_access_token "
                             "WHERE gpoa_authorization_type = ? AND gpoa_client_id != ?",
                             (AUTHORIZATION_TYPES[grant_type], INTROSPECTOR)).fetchone()
        return int(row[0])

    def _metric(self, name: str) -> int:
        """A counter from Glewlwyd's Prometheus endpoint (this plugin's series)."""
        text = self._http.get(f"http://127.0.0.1:{self.metrics_port}/").text
        for line in text.splitlines():
            if line.startswith(f'{name}{{plugin="{PLUGIN}"}} '):
                return int(float(line.split()[-1]))
        raise AssertionError(f"glewlwyd: its metrics have no {name}")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of Glewlwyd's own log (it logs no tokens at INFO level).

        Its lines about adding and removing routes are left out: they are most of it.
        """
        with contextlib.suppress(OSError):
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines()
                     if " endpoint " not in line]
            return "its log ends:\n" + "\n".join(lines)[-chars:]
        return "it left no log"

    def stop(self) -> None:
        """Stop glewlwyd (SIGTERM, then SIGKILL after a bounded wait)."""
        for client in (getattr(self, "_admin", None), self._http):
            if client is not None:
                client.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
        self._log.close()


def _continued(callback_url: str) -> str:
    """The callback as the login page sends the browser back: with ``g_continue``.

    Without it Glewlwyd shows its login page again however complete the session is.
    """
    if "g_continue" in parse_qs(urlsplit(callback_url).query, keep_blank_values=True):
        return callback_url
    return f"{callback_url}&g_continue"


def _version(binary: str) -> str:
    """The version line of ``glewlwyd --help``."""
    shown = subprocess.run([binary, "--help"], capture_output=True, text=True, check=False,
                           timeout=30)
    for line in (shown.stdout + shown.stderr).splitlines():
        if line.startswith("Version "):
            return line.split()[1]
    return "unknown"


def _create_database(path: Path, init_script: Path) -> None:
    """A fresh SQLite database from the package's own init script, in WAL mode.

    The tests count issued tokens by reading this database while Glewlwyd writes to
    it. In SQLite's default journal mode such a read blocks the writer, and Glewlwyd
    then fails the refresh it was serving ("Error executing sql query") with an empty
    400, which ends the session: a failure of the harness, not of either program.
    With a write-ahead log, readers never block the writer.
    """
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(init_script.read_text(encoding="utf-8"))
        db.commit()
        db.execute("PRAGMA journal_mode=WAL")


def start(workdir: Path, *, access_token_ttl: int) -> GlewlwydServer:
    """Start Glewlwyd with access tokens of ``access_token_ttl`` seconds."""
    return GlewlwydServer(workdir, access_token_ttl=access_token_ttl)
