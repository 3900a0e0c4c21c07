"""Transport-neutral request and response values shared by the app, admin API and faults."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

JSON_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
)


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers (authlib calls ``.get``)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = {name.lower(): value for name, value in items}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class HttpRequest:
    """One parsed HTTP request; ``form`` holds the url-encoded body, if any."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    request_id: str = ""

    @property
    def form(self) -> dict[str, str]:
        """Fields of an ``application/x-www-form-urlencoded`` body."""
        return dict(self.form_items)

    @property
    def form_items(self) -> list[tuple[str, str]]:
        """The url-encoded body's fields in order, repeats kept."""
        content_type = self.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return []
        return parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the body's fields in order, repeats kept (no values: safe to log)."""
        return tuple(name[:64] for name, _ in self.form_items)

    @property
    def authorization_scheme(self) -> str | None:
        """The scheme word of the ``Authorization`` header, if any."""
        value = self.headers.get("authorization", "").strip()
        return value.split(None, 1)[0][:20] if value else None

    def json(self) -> Any:
        """The body parsed as JSON; an empty body is an empty object."""
        if not self.body.strip():
            return {}
        return json.loads(self.body)


@dataclass
class HttpResponse:
    """What the HTTP layer writes; ``outcome`` is recorded in stats, never sent."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = "ok"


@dataclass
class JsonAnswer:
    """An OAuth endpoint's answer before it is encoded: the place responses get shaped."""

    status: int
    payload: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=lambda: list(JSON_HEADERS))

    @property
    def outcome(self) -> str:
        """``ok`` for a success, else the OAuth ``error`` code."""
        if self.status < 400 and "error" not in self.payload:
            return "ok"
        return str(self.payload.get("error", f"http_{self.status}"))

    def to_response(self) -> HttpResponse:
        """Encode as a JSON HTTP response."""
        body = json.dumps(self.payload).encode()
        return HttpResponse(self.status, body, list(self.headers), self.outcome)


def json_response(status: int, payload: Any, outcome: str = "ok") -> HttpResponse:
    """A JSON response with no-store caching headers."""
    return HttpResponse(status, json.dumps(payload).encode(), list(JSON_HEADERS), outcome)


def error_response(status: int, error: str, description: str) -> HttpResponse:
    """An OAuth-style JSON error body."""
    payload = {"error": error, "error_description": description}
    return json_response(status, payload, outcome=error)


def html_response(status: int, page: str, outcome: str = "ok") -> HttpResponse:
    """An HTML page."""
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    return HttpResponse(status, page.encode(), headers, outcome)


def wire_number(seconds: float) -> int | float:
    """Render a duration for JSON: an integer when whole, so ``3600.0`` goes out as ``3600``."""
    rounded = round(float(seconds), 3)
    return int(rounded) if rounded.is_integer() else rounded
