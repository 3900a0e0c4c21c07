"""``tokenwarden token`` (the fast path) with the tokens in the file and in the keyring.

Run from the repository root: ``.venv/bin/python bench/store_bench.py [--runs N]``.
Starts a private gnome-keyring inside ``dbus-run-session`` (as the tests do), writes one
fresh record per store in two temporary homes, then times whole ``tokenwarden token``
processes, the two stores alternating, and prints medians beside the cost of one fresh
process reading the entry through ``keyring`` and through ``secretstorage``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.oskeyring.conftest import _SESSION  # noqa: E402

from tokenwarden.config import write_profile  # noqa: E402
from tokenwarden.secretstore import SecretPlacement  # noqa: E402
from tokenwarden.store import TokenRecord, TokenStore  # noqa: E402

PYTHON = sys.executable


def _home(root: Path, store: str) -> Path:
    home = root / store
    write_profile(home / "config.toml", "default", {
        "issuer": "https://issuer.example", "client_id": "bench", "store": store})
    now = datetime.now(UTC)
    TokenStore(home / "store", SecretPlacement({"default": store})).write(TokenRecord(
        profile="default", issuer="https://issuer.example", client_id="bench",
        access_token="bench-access", refresh_token="bench-refresh", obtained_at=now,
        expires_at=now + timedelta(hours=1), generation=1))
    return home


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed: {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="tw-store-bench-"))
    daemon_env = {"PATH": os.environ["PATH"], "HOME": str(root),
                  "XDG_DATA_HOME": str(root / "data"), "XDG_RUNTIME_DIR": str(root / "run")}
    (root / "run").mkdir(mode=0o700)
    session = subprocess.Popen(["dbus-run-session", "--", "sh", "-c", _SESSION],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=daemon_env, start_new_session=True)
    assert session.stdout is not None
    address = session.stdout.readline().strip()
    session.stdout.readline()
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        homes = {store: _home(root, store) for store in ("file", "keyring")}
        ref = TokenStore(homes["keyring"] / "store").placed("default")
        assert ref is not None and ref[1] is not None
        name = f"default/{ref[1]}"
        cases = {
            "token (file store)": ([PYTHON, "-m", "tokenwarden", "token"], "file"),
            "token (keyring store)": ([PYTHON, "-m", "tokenwarden", "token"], "keyring"),
            "keyring.get_password alone": ([PYTHON, "-c", "import keyring; keyring.get_password"
                                            f"('tokenwarden', '{name}')"], "keyring"),
            "secretstorage lookup alone": ([PYTHON, "-c", "from tokenwarden.secretstore import "
                                            f"_secret_service_get as g; g('{name}')"],
                                           "keyring"),
        }
        timings: dict[str, list[float]] = {case: [] for case in cases}
        for _ in range(runs):
            for case, (argv, store) in cases.items():
                env = {**os.environ, "TOKENWARDEN_HOME": str(homes[store])}
                timings[case].append(_time(argv, env))
        print(f"| command ({runs} runs each, alternating) | median ms | min ms |")
        print("|---|---:|---:|")
        for case, values in timings.items():
            print(f"| {case} | {statistics.median(values):.0f} | {min(values):.0f} |")
        TokenStore(homes["keyring"] / "store").delete("default")
    finally:
        os.killpg(session.pid, signal.SIGTERM)
        session.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
