"""Issue 14 item 4 for ``tokenwarden demo --interactive``: the same waiting feedback as login."""

from __future__ import annotations

import httpx2


def test_interactive_demo_shows_link_time_left_and_progress(home, start_cli):
    demo = start_cli(home, "demo", "--interactive", "--renewals", "1", "--lifetime", "3",
                     BROWSER="true")
    issuer = demo.wait_for("Development authorization server:").split()[3]
    code = demo.user_code()
    assert demo.wait_for("or open") == (f"  or open {issuer}/device?user_code={code} "
                                         "(the code is filled in)")
    assert demo.wait_for("expires in") == "The code expires in 10m 00s."
    line = demo.wait_for("still waiting", stream="stderr", timeout=90)
    assert line.startswith("still waiting for approval · code expires in 9m ")
    answer = httpx2.post(f"{issuer}/_admin/approve", json={"user_code": code}, timeout=10)
    assert answer.status_code == 200
    assert demo.finish(timeout=120) == 0, demo.stderr
    assert any(line.startswith("Done: 1 silent renewals") for line in demo.stdout)
