"""The few HTML pages the dev server renders: the device page and error pages."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from http import HTTPStatus

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; }
input { font: 1.5rem monospace; letter-spacing: .2rem; text-transform: uppercase; width: 12rem; }
button { font-size: 1rem; padding: .4rem 1.2rem; margin: 1rem .5rem 0 0; }
.note { color: #666; font-size: .9rem; }
"""


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def device_page(user_code: str, user_label: str, message: str | None = None) -> str:
    """The verification page: a user-code field with Approve and Deny buttons."""
    notice = f"<p><strong>{escape(message)}</strong></p>" if message else ""
    body = (
        "<h1>Connect a device</h1>"
        f"{notice}"
        '<form method="post" action="/device">'
        '<label for="user_code">Code shown on your device</label><br>'
        f'<input id="user_code" name="user_code" value="{escape(user_code)}" '
        'autocomplete="off" autofocus required><br>'
        '<button type="submit" name="action" value="approve">Approve</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form>"
        f'<p class="note">Signing in as {escape(user_label)}. '
        "tokenwarden development server: not for production use.</p>"
    )
    return _document("tokenwarden devserver: connect a device", body)


def consent_page(params: Mapping[str, str], user_label: str, message: str | None = None) -> str:
    """The authorization page: what the client asks for, with Approve and Deny buttons."""
    notice = f"<p><strong>{escape(message)}</strong></p>" if message else ""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items() if k != "action"
    )
    client = escape(params.get("client_id", "an application"))
    scope = escape(params.get("scope", "") or "the default scopes")
    body = (
        "<h1>Sign in</h1>"
        f"{notice}"
        f"<p><strong>{client}</strong> asks for access to: {scope}.</p>"
        f'<form method="post" action="/authorize">{hidden}'
        '<button type="submit" name="action" value="approve">Approve</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form>"
        f'<p class="note">Signing in as {escape(user_label)}. '
        "tokenwarden development server: not for production use.</p>"
    )
    return _document("tokenwarden devserver: sign in", body)


def result_page(approved: bool) -> str:
    """Shown after the user decided."""
    if approved:
        text = "Device approved. You can close this page and return to your device."
    else:
        text = "Access denied. The device will not be signed in."
    return _document("tokenwarden devserver", f"<h1>{escape(text)}</h1>")


def error_page(status: int, detail: str | None = None) -> str:
    """A plain HTML error page, like a proxy or gateway would serve."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    extra = f"<p>{escape(detail)}</p>" if detail else ""
    return _document(f"{status} {phrase}", f"<h1>{status} {escape(phrase)}</h1>{extra}")
