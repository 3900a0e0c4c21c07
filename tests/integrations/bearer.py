"""Checks a bearer token the way a real API would: by asking the dev server's /userinfo."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field

#: Straight to the dev server, whatever HTTP_PROXY a test sets.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class BearerCheck:
    """Counts what a stub server saw: requests, credentials it refused, challenges."""

    userinfo_url: str
    accepted: int = 0
    #: A credential was presented and refused (the 401 a user would see).
    rejected: int = 0
    #: No credential at all: the 401 challenge of HTTP auth (git's first request).
    challenged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def valid(self, token: str | None) -> bool:
        """True when the dev server accepts ``token``; counts the outcome."""
        if not token:
            with self.lock:
                self.challenged += 1
            return False
        request = urllib.request.Request(self.userinfo_url,
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with _DIRECT.open(request, timeout=10) as answer:
                ok = answer.status == 200
        except urllib.error.HTTPError:
            ok = False
        with self.lock:
            if ok:
                self.accepted += 1
            else:
                self.rejected += 1
        return ok
