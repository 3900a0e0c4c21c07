"""`tokenwarden demo`, the README's first command, runs to the end on its own."""

import os
import subprocess
import sys


def test_demo_signs_in_renews_three_times_and_exits_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENWARDEN_")}
    env["HOME"] = str(tmp_path)  # the demo must not touch the user's own files
    done = subprocess.run([sys.executable, "-m", "tokenwarden", "demo", "--lifetime", "2"],
                          capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, done.stderr
    assert "Done: 3 silent renewals" in done.stdout
    assert "REJECTED" not in done.stdout
    assert "invalid_grant=0" in done.stdout
    assert "Traceback" not in done.stderr
    assert not [p for p in tmp_path.rglob("*") if "tokenwarden" in p.name]
