"""Play the user's browser against the dev server's pages over real HTTP.

``devserver_authorize(url)`` does what a person does in the browser: open the
authorization URL, read the consent form, press Approve (or Deny) and take the
redirect the server answers with, without following it. ``deliver(redirect)``
then follows it to tokenwarden's loopback listener, as the browser would, and
returns the page the user sees.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx2


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action")
        elif tag == "input" and values.get("type") == "hidden":
            self.fields[values["name"]] = values.get("value", "")


async def devserver_authorize(url: str, action: str = "approve") -> str:
    """The redirect URL the dev server sends the browser to after ``action``."""
    async with httpx2.AsyncClient(follow_redirects=False, trust_env=False, timeout=15) as http:
        page = await http.get(url)
        if page.status_code == 302:  # auto-approve, or an error redirect
            return page.headers["location"]
        assert page.status_code == 200, page.text
        form = _Form()
        form.feed(page.text)
        assert form.action, "the authorization page has no form"
        answer = await http.post(urljoin(url, form.action), data={**form.fields, "action": action})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]


async def deliver(redirect: str) -> httpx2.Response:
    """Follow the redirect to the loopback listener; the page the user sees."""
    async with httpx2.AsyncClient(follow_redirects=False, trust_env=False, timeout=30) as http:
        return await http.get(redirect)


async def sign_in_in_browser(url: str, action: str = "approve") -> httpx2.Response:
    """Approve (or deny) at the dev server and land on the listener's page."""
    return await deliver(await devserver_authorize(url, action))
