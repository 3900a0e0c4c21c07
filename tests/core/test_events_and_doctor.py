"""The auth event log and `tokenwarden doctor`."""

import json
import subprocess
import sys

from tests.core.conftest import configure, manager_for, sign_in
from tokenwarden.events import read_events


async def test_event_log_records_lifecycle_with_ids_and_no_secrets(make_devserver, home):
    server = make_devserver(access_token_ttl=60)
    configure(home, server)
    manager = manager_for(home)
    started = await sign_in(manager, server)
    await manager.refresh()
    server.add_fault("token", "status", status=503, grant_type="refresh_token")
    failed = await manager.refresh()
    record = manager.store.read("default")
    await manager.logout()
    await manager.close()

    events = list(read_events(home / "log"))
    kinds = [(e["event"], e["outcome"]) for e in events]
    assert ("sign-in", "ok") in kinds and ("renewal", "ok") in kinds
    assert ("renewal", "retrying") in kinds and ("sign-out", "ok") in kinds
    retry = next(e for e in events if e["outcome"] == "retrying")
    assert retry["correlationId"] == failed.last_error.correlation_id
    assert retry["requestId"].startswith("req_")
    text = (home / "log" / "auth-events.jsonl").read_text(encoding="utf-8")
    for secret in (started.device_code, record.access_token, record.refresh_token):
        assert secret not in text


def doctor(home, *args):
    return subprocess.run([sys.executable, "-m", "tokenwarden", "doctor", "--json", *args],
                          capture_output=True, text=True, env={"TOKENWARDEN_HOME": str(home),
                                                                "PATH": "/usr/bin:/bin"})


def test_doctor_passes_against_a_healthy_provider(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    done = doctor(home)
    findings = {f["check"]: f for f in json.loads(done.stdout)}
    assert done.returncode == 0, done.stdout
    assert findings["discovery"]["level"] == "ok"
    assert findings["clock"]["level"] == "ok"
    assert findings["session"]["fix"] == "run: tokenwarden login --profile default"


def test_doctor_names_a_bad_config_key(home):
    (home / "config.toml").write_text('[profiles.default]\nissuer = "http://example.com"\n'
                                      'client_id = "x"\n', encoding="utf-8")
    done = doctor(home)
    findings = json.loads(done.stdout)
    assert done.returncode == 1
    assert any(f["level"] == "fail" and "key 'issuer'" in f["detail"] for f in findings)


def test_doctor_reports_an_unreachable_provider(home):
    (home / "config.toml").write_text('[profiles.default]\nissuer = "http://127.0.0.1:9"\n'
                                      'client_id = "x"\n', encoding="utf-8")
    done = doctor(home)
    assert done.returncode == 1
    assert "connection refused" in done.stdout
    assert "Traceback" not in done.stderr
