"""Clients that answer null, fail, or never answer: the server carries on."""

from __future__ import annotations

import asyncio

from tests.lsp.harness import answer_null, never_answer, profile_options, sign_in


async def answer_error(params):
    raise RuntimeError("this editor cannot open documents")


def progress_ended(client):
    return [v for v in client.progress_values() if v.kind == "end"] or None


async def test_null_answer_to_show_document(open_client, devserver):
    client = await open_client(profile_options(devserver))
    client.answer_show_document = answer_null

    started = await client.command("tokenwarden.login")
    shown = await client.wait_until(lambda: client.shown_documents or None)
    devserver.approve(started["userCode"])
    end = await client.wait_until(lambda: progress_ended(client))

    assert shown
    assert "Signed in" in end[0].message
    assert (await client.get_token())["accessToken"]


async def test_error_answer_to_show_document(open_client, devserver):
    client = await open_client(profile_options(devserver))
    client.answer_show_document = answer_error

    await sign_in(client, devserver)

    assert (await client.get_token())["accessToken"]


async def test_show_document_never_answered_does_not_hold_up_the_sign_in(open_client,
                                                                        devserver):
    client = await open_client(profile_options(devserver))
    client.answer_show_document = never_answer

    started = await client.command("tokenwarden.login")
    await client.wait_until(lambda: client.shown_documents or None)
    devserver.approve(started["userCode"])
    await client.wait_for_state("signedIn")
    end = await client.wait_until(lambda: progress_ended(client), timeout=5)

    assert "Signed in" in end[0].message
    assert (await client.command("tokenwarden.status"))["state"] == "signedIn"


async def test_message_request_answered_null(open_client, make_devserver):
    devserver = make_devserver(access_token_ttl=3)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=60))
    client.answer_message_request = answer_null
    await sign_in(client, devserver)
    devserver.revoke_all()

    await client.wait_until(lambda: client.message_requests or None)

    assert (await client.command("tokenwarden.status"))["state"] == "expired"
    assert devserver.stats()["device_authorizations"] == 1


async def test_message_request_never_answered(open_client, make_devserver):
    devserver = make_devserver(access_token_ttl=3)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=60))
    client.answer_message_request = never_answer
    await sign_in(client, devserver)
    devserver.revoke_all()

    await client.wait_until(lambda: client.message_requests or None)
    mark = len(client.statuses)
    started = await client.command("tokenwarden.login")
    devserver.approve(started["userCode"])
    await client.wait_for_state("signedIn", since=mark)

    assert (await client.get_token())["accessToken"]


async def test_unknown_action_is_ignored(open_client, make_devserver):
    from tests.lsp.harness import choose

    devserver = make_devserver(access_token_ttl=3)
    client = await open_client(profile_options(devserver, warnBeforeExpirySeconds=60))
    client.answer_message_request = choose("Reboot the universe")
    await sign_in(client, devserver)
    devserver.revoke_all()

    await client.wait_until(lambda: client.message_requests or None)
    await asyncio.sleep(0.2)  # give a wrongly started sign-in the time to show up

    assert devserver.stats()["device_authorizations"] == 1
    assert (await client.command("tokenwarden.status"))["state"] == "expired"
