"""kill -9 at every step of a keyring-store write: readers get the last acknowledged tokens.

A write has three steps (``secretstore.py``): the new keyring entry, the record naming it,
the deletion of the old entry. The writer below kills itself with SIGKILL right after a
chosen step (or at a random moment), a hundred times and more, against a real Secret
Service; after each kill a fresh reader must see a record at least as new as the last one
the writer acknowledged, with that record's own tokens, and no more than the entries a
crash can leave behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

from tests.oskeyring.conftest import keyring_entries
from tokenwarden.store import TokenStore

WRITER = textwrap.dedent("""
    import os, signal, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from tokenwarden import secretstore
    from tokenwarden.secretstore import SecretPlacement
    from tokenwarden.store import TokenRecord, TokenStore

    folder, step, writes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = TokenStore(folder, SecretPlacement({"default": "keyring"}))
    armed = [False]

    def die_after(name, original):
        def step_then_die(*args, **kwargs):
            result = original(*args, **kwargs)
            if armed[0] and step == name:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return step_then_die

    backend = secretstore.keyring_backend()
    backend.put = die_after("entry", backend.put)
    store._replace = die_after("record", store._replace)
    backend.delete = die_after("delete", backend.delete)

    current = store.read("default")
    generation = current.generation if current else 0
    now = datetime.now(UTC)
    print("ready", flush=True)
    for count in range(writes + 1):
        armed[0] = count == writes
        generation += 1
        store.write(TokenRecord(profile="default", issuer="https://a.example",
                                access_token=f"at-{generation}", refresh_token=f"rt-{generation}",
                                obtained_at=now, expires_at=now + timedelta(hours=1),
                                generation=generation))
        print(generation, flush=True)
    if step != "random":  # the step never came (a first write deletes nothing)
        os.kill(os.getpid(), signal.SIGKILL)
    while True:  # "random": the kill comes from the test, at any moment of a write
        generation += 1
        store.write(TokenRecord(profile="default", issuer="https://a.example",
                                access_token=f"at-{generation}", refresh_token=f"rt-{generation}",
                                obtained_at=now, expires_at=now + timedelta(hours=1),
                                generation=generation))
        print(generation, flush=True)
""")

STEPS = ("entry", "record", "delete", "random")


@pytest.mark.timeout(900)
def test_keyring_store_survives_kill_nine_at_every_step(secret_service, tmp_path):
    folder = tmp_path / "store"
    rng = random.Random(17)
    acknowledged = 0
    killed_at = dict.fromkeys(STEPS, 0)
    for round_ in range(104):
        step = STEPS[round_ % len(STEPS)]
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), step, str(rng.randrange(3))],
            stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        if step == "random":
            time.sleep(rng.uniform(0.0, 0.15))
            os.kill(writer.pid, signal.SIGKILL)
        output, _ = writer.communicate(timeout=120)
        assert writer.returncode == -signal.SIGKILL
        killed_at[step] += 1
        numbers = [int(line) for line in output.split() if line.isdigit()]
        acknowledged = max([acknowledged, *numbers])
        record = TokenStore(folder).read("default")
        if acknowledged:
            assert record is not None
            assert record.generation >= acknowledged
            assert record.access_token == f"at-{record.generation}"
            assert record.refresh_token == f"rt-{record.generation}"
            assert f"default/{record.keyring_ref}" in keyring_entries()
    assert acknowledged > 100
    assert min(killed_at.values()) >= 25
    # Entries the crashes left behind go at the next write that completes.
    store = TokenStore(folder)
    last = store.read("default")
    store.write(replace(last, generation=last.generation + 1, access_token="at-final"))
    assert keyring_entries() == [f"default/{store.read('default').keyring_ref}"]
    store.delete("default")
    assert keyring_entries() == []
