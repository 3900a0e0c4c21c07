"""Six processes call ``tokenwarden token`` across several expiries: no refresh token reused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

from tests.interop.conftest import configure, profile_of
from tests.interop.drive import cli_env, cli_login

PROCESSES = 6
EXPIRIES = 3
DEADLINE_SECONDS = 120.0

#: What each call asks of the token (seconds it must stay valid).
MIN_VALIDITY = 2
#: A token checked later than this after it was handed out may have expired by then
#: and is not counted either way: the server's clock counts whole seconds, so it may
#: end a token up to a second before the client's reckoning of ``expires_in``.
CHECK_WITHIN = MIN_VALIDITY - 1

# Prints the time and each token it gets on its own line (to the test's pipe, never to
# a log) and "exit N" for a failed call; stops once the stop file exists.
WORKER = textwrap.dedent("""
    import os, subprocess, sys, time
    while not os.path.exists(sys.argv[1]):
        done = subprocess.run([sys.executable, "-m", "tokenwarden", "token",
                               "--min-validity", sys.argv[2]], capture_output=True, text=True)
        if done.returncode == 0:
            print(f"{time.time():.3f} {done.stdout.strip()}", flush=True)
        else:
            print(f"exit {done.returncode}", flush=True)
            sys.stderr.write(done.stderr)
""")


class TokenChecker:
    """Reads a worker's tokens as they arrive and checks each new one at userinfo at once.

    On a loaded machine a check can come seconds after the token was handed out, past
    the validity the call asked for; such a check (``late``) says nothing about the
    token, so only checks within ``CHECK_WITHIN`` count as accepted or refused.
    """

    def __init__(self, server) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.accepted = 0
        self.refused = 0
        self.late = 0
        self.calls = 0
        self.failures: list[str] = []

    def follow(self, worker: subprocess.Popen[str]) -> threading.Thread:
        def read() -> None:
            assert worker.stdout is not None
            for line in worker.stdout:
                self.take(line.strip())

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def take(self, line: str) -> None:
        with self.lock:
            self.calls += 1
            if line.startswith("exit "):
                self.failures.append(line)
                return
            handed_out, _, token = line.partition(" ")
            if token in self.seen:
                return
            self.seen.add(token)
        late = time.time() - float(handed_out) > CHECK_WITHIN
        ok = self.server.userinfo_accepts(token)
        with self.lock:
            if ok:
                self.accepted += 1
            elif late:
                self.late += 1
            else:
                self.refused += 1


def test_six_processes_renew_across_expiries_without_reusing_a_refresh_token(
        independent_server, interop_home, tmp_path):
    configure(interop_home, profile_of(independent_server, "public"))
    assert cli_login(interop_home, independent_server).returncode == 0
    reuse_before = independent_server.refresh_reuse_count()
    refreshes_before = independent_server.token_requests("refresh_token")

    stop = tmp_path / "stop"
    checker = TokenChecker(independent_server)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(stop), str(MIN_VALIDITY)], env=cli_env(interop_home),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(PROCESSES)]
    readers = [checker.follow(worker) for worker in workers]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (independent_server.token_requests("refresh_token") - refreshes_before < EXPIRIES
           and time.monotonic() < deadline):
        time.sleep(0.5)
    stop.touch()
    # The reader threads own stdout: communicate() would read it too and split lines.
    for worker in workers:
        worker.wait(timeout=60)
    for reader in readers:
        reader.join(30)
    errors = [worker.stderr.read() if worker.stderr else "" for worker in workers]

    rotations = independent_server.token_requests("refresh_token") - refreshes_before
    reuse = independent_server.refresh_reuse_count() - reuse_before
    independent_server.note("rotations in rotation scenarios", rotations)
    independent_server.note("refresh-token reuse in rotation scenarios", reuse)
    print(f"{independent_server.name}: processes={PROCESSES} calls={checker.calls} "
          f"rotations={rotations} tokens_checked={len(checker.seen)} "
          f"accepted={checker.accepted} checked_too_late={checker.late} reuse={reuse}")
    # A server error is the server's (Glewlwyd answered one refresh with HTTP 500 under
    # this load, once in several runs): that call exits 4, "temporarily unavailable", as
    # it should, and the next call renews. Anything else is a failure.
    error_lines = [line for text in errors for line in text.splitlines() if line.strip()]
    independent_server.note("token calls refused with a server error (exit 4)",
                            len(checker.failures))
    assert set(checker.failures) <= {"exit 4"}, "".join(errors)
    assert all("answered HTTP 5" in line for line in error_lines), "".join(errors)
    assert len(checker.failures) < checker.calls / 4, "".join(errors)
    assert rotations >= EXPIRIES
    assert reuse == 0
    assert checker.refused == 0  # every token checked while it was promised valid worked
    seen = len(checker.seen)  # a count: the set holds tokens, which must not be printed
    assert checker.accepted + checker.late == seen >= EXPIRIES
    assert checker.accepted >= 1
