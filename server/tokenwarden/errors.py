"""The error tree. Every error says whether retrying can help.

::

    TokenwardenError                      .retryable, .code, .message
    ├── ConfigError                       bad config.toml or profile (file, profile, key)
    ├── StoreError                        store unreadable, unwritable or too open
    │   └── NewerStoreFormat              a record written by a newer tokenwarden
    ├── SignInRequired                    no usable session: a person must sign in
    ├── TemporarilyUnavailable            renewal failing transiently; .retry_after
    ├── LoginFailed                       device sign-in ended without tokens
    │   (denied, code expired, cancelled)
    └── OAuthError                        the provider or the way to it failed
        ├── TransportError                network, timeout, reset, dropped reply   (retryable)
        ├── ServerError                   5xx, 429, temporarily_unavailable         (retryable)
        ├── MalformedResponse             HTML, not JSON, missing fields             (retryable)
        └── TerminalOAuthError            invalid_grant, invalid_client, ...        (final)

OAuth errors carry the structured fields a bug report needs: the OAuth ``error``
and ``error_description``, the HTTP status, ``Retry-After`` and the provider's
request id. No error message ever contains a token, refresh token or device code.
"""

from __future__ import annotations

from dataclasses import dataclass


class TokenwardenError(Exception):
    """Base of every error tokenwarden raises on purpose."""

    retryable = False
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TokenwardenError):
    """The configuration cannot be used; names the file, profile and key."""

    code = "config_error"

    def __init__(
        self, message: str, *, file: str | None = None, profile: str | None = None,
        key: str | None = None,
    ) -> None:
        where = ", ".join(
            part for part in (
                f"file {file}" if file else "",
                f"profile '{profile}'" if profile else "",
                f"key '{key}'" if key else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.profile = profile
        self.key = key


class StoreError(TokenwardenError):
    """The token store cannot be read or written safely."""

    code = "store_error"


class NewerStoreFormat(StoreError):
    """A record of a newer format: upgrade tokenwarden; never delete or replace it."""

    code = "newer_store_format"


class SignInRequired(TokenwardenError):
    """There is no usable session for a profile; someone must sign in."""

    code = "sign_in_required"

    def __init__(self, message: str, *, profile: str, state: str) -> None:
        super().__init__(message)
        self.profile = profile
        self.state = state


class TemporarilyUnavailable(TokenwardenError):
    """No valid token right now, but renewal may succeed later."""

    retryable = True
    code = "temporarily_unavailable"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LoginFailed(TokenwardenError):
    """A device sign-in ended without tokens (denied, expired, cancelled or failed)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.code = reason


@dataclass(frozen=True)
class ErrorDetails:
    """What the provider said, for logs and bug reports (never a secret)."""

    error: str | None = None
    description: str | None = None
    status: int | None = None
    retry_after: float | None = None
    request_id: str | None = None


class OAuthError(TokenwardenError):
    """A request to the authorization server failed."""

    def __init__(self, message: str, details: ErrorDetails | None = None) -> None:
        super().__init__(message)
        self.details = details or ErrorDetails()
        if self.details.error:
            self.code = self.details.error

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait, if it said."""
        return self.details.retry_after


class TransportError(OAuthError):
    """The request or its answer was lost on the way (network, timeout, reset)."""

    retryable = True
    code = "network_error"


class ServerError(OAuthError):
    """The server is failing or throttling (5xx, 429, temporarily_unavailable)."""

    retryable = True
    code = "server_error"


class MalformedResponse(OAuthError):
    """The answer was not a usable OAuth response (HTML page, not JSON, fields missing)."""

    retryable = True
    code = "malformed_response"


class TerminalOAuthError(OAuthError):
    """The server refused for good: retrying the same request cannot succeed."""

    code = "invalid_request"


#: OAuth ``error`` values that mean "try again later" rather than "never".
RETRYABLE_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down"})
