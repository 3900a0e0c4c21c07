"""kill -9 during store writes: the record always parses and never goes back in time."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from tokenwarden.store import TokenStore

WRITER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from tokenwarden.store import TokenRecord, TokenStore
    store = TokenStore(Path(sys.argv[1]))
    current = store.read("default")
    generation = current.generation if current else 0
    now = datetime.now(UTC)
    print("ready", flush=True)
    while True:
        generation += 1
        store.write(TokenRecord(profile="default", issuer="https://a.example",
                                access_token=f"at-{generation}", refresh_token=f"rt-{generation}",
                                obtained_at=now, expires_at=now + timedelta(hours=1),
                                generation=generation))
        print(generation, flush=True)
""")


def test_store_survives_a_hundred_kill_nine_during_writes(tmp_path):
    folder = tmp_path / "store"
    rng = random.Random(7)
    acknowledged = 0
    for _ in range(100):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        # One write acknowledged first, so every run adds one however slow the machine.
        acknowledged = max(acknowledged, int(writer.stdout.readline()))
        time.sleep(rng.uniform(0.0, 0.03))
        os.kill(writer.pid, signal.SIGKILL)
        output, _ = writer.communicate()
        numbers = [int(line) for line in output.split() if line.isdigit()]
        acknowledged = max([acknowledged, *numbers])
        record = TokenStore(folder).read("default")
        if acknowledged:
            assert record is not None
            assert record.generation >= acknowledged
            assert record.access_token == f"at-{record.generation}"
            assert record.refresh_token == f"rt-{record.generation}"
    assert acknowledged >= 100
