"""No token ever reaches the editor's log, messages or the server's stderr."""

from __future__ import annotations

import json

from tests.lsp.harness import profile_options, sign_in


async def test_tokens_stay_out_of_every_log_line(open_client, devserver, home):
    client = await open_client(profile_options(devserver))
    await sign_in(client, devserver)
    first = await client.get_token()
    await client.request("tokenwarden/tokenRejected", {"accessToken": first["accessToken"]})
    await client.command("tokenwarden.refresh")
    record = json.loads((home / "store" / "default.json").read_text())
    secrets = {first["accessToken"], record["access_token"], record["refresh_token"]}

    shown = [m.message for m in client.log_messages + client.messages]
    shown += [json.dumps(status) for status in client.statuses]

    assert len(client.log_messages) >= 3
    assert not [line for line in shown if any(secret in line for secret in secrets)]
