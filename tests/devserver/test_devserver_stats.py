"""Counters and the event log, and that no log line or event carries a secret."""

from __future__ import annotations

import json
import logging

import httpx2
import pytest
from devserver_support import OAuthClient


def test_counters_follow_a_session(oauth: OAuthClient) -> None:
    device = oauth.start_device().json()
    oauth.poll(device["device_code"])  # pending
    oauth.server.approve(device["user_code"])
    tokens = oauth.poll(device["device_code"]).json()
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    oauth.userinfo(renewed["access_token"])
    oauth.refresh(tokens["refresh_token"])  # reuse
    oauth.userinfo(renewed["access_token"])  # revoked by the reuse

    stats = oauth.http.get("/_admin/stats").json()

    assert stats["token_requests"] == {"device_code": 2, "refresh_token": 2}
    assert stats["device_authorizations"] == 1
    assert stats["authorization_pending"] == 1
    assert stats["device_code_ok"] == 1
    assert stats["refresh_ok"] == 1
    assert stats["invalid_grant"] == 1
    assert stats["reuse_detected"] == 1
    assert stats["grants_revoked"] == 1
    assert (stats["userinfo_ok"], stats["userinfo_rejected"]) == (1, 1)


def test_faulted_requests_count_as_requests_and_faults_only(oauth: OAuthClient) -> None:
    oauth.server.add_fault("token", "status", status=500, count=2)
    oauth.refresh("a")
    oauth.refresh("b")
    stats = oauth.server.stats()
    assert stats["token_requests"] == {"refresh_token": 2}
    assert stats["faults_applied"] == {"status": 2}
    assert stats["invalid_grant"] == 0


def test_reset_stats_zeroes_counters_and_events(oauth: OAuthClient) -> None:
    oauth.login()
    assert oauth.http.post("/_admin/reset_stats").status_code == 200
    stats = oauth.server.stats()
    assert stats["device_code_ok"] == 0 and stats["token_requests"] == {}
    assert oauth.http.get("/_admin/events").json() == {"events": []}


def test_events_record_each_request_with_its_request_id(oauth: OAuthClient) -> None:
    response = oauth.start_device()
    events = oauth.http.get("/_admin/events").json()["events"]
    assert events == [
        {
            "time": events[0]["time"],
            "endpoint": "device_authorization",
            "grant_type": None,
            "outcome": "ok",
            "request_id": response.headers["x-request-id"],
            "status": 200,
            "fault": None,
            "parameters": ["client_id"],
            "authorization": None,
        }
    ]
    assert events[0]["time"].endswith("Z")


def _secrets_of_a_full_session(oauth: OAuthClient) -> list[str]:
    """Run every kind of exchange; return every secret value that crossed the wire."""
    device = oauth.start_device().json()
    oauth.poll(device["device_code"])
    oauth.server.approve(device["user_code"])
    tokens = oauth.poll(device["device_code"]).json()
    renewed = oauth.refresh(tokens["refresh_token"]).json()
    oauth.userinfo(renewed["access_token"])
    oauth.server.add_fault("token", "lost_answer")
    with pytest.raises(httpx2.RemoteProtocolError):
        oauth.refresh(renewed["refresh_token"])
    oauth.revoke(renewed["access_token"])
    oauth.refresh(tokens["refresh_token"])
    return [
        device["device_code"],
        tokens["access_token"],
        tokens["refresh_token"],
        renewed["access_token"],
        renewed["refresh_token"],
    ]


def test_log_lines_and_events_never_contain_tokens(
    oauth: OAuthClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tokenwarden.devserver"):
        secrets = _secrets_of_a_full_session(oauth)
    lines = [
        record.getMessage() for record in caplog.records if record.name.startswith("tokenwarden")
    ]
    assert len(lines) >= 8  # one per request
    events = json.dumps(oauth.server.events())
    for secret in secrets:
        assert not any(secret in line for line in lines)
        assert secret not in events
