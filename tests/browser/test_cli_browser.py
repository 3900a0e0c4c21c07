"""``tokenwarden login`` picks and runs the browser flow against the dev server."""

from __future__ import annotations

from tests.browser.cli import LoginProcess, login_env, recorded_url
from tests.browser.pages import sign_in_in_browser
from tests.core.conftest import configure


async def test_login_flow_browser_signs_in_through_the_printed_url(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    login = await LoginProcess.start(login_env(home), "--flow", "browser", "--no-browser")
    try:
        kind, url = await login.instructions()
        assert kind == "browser"
        page = await sign_in_in_browser(url)
        assert page.status_code == 200
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err
    assert "default: Signed in as alice@example.test" in out


async def test_login_on_a_desktop_opens_the_browser_and_signs_in(make_devserver, home,
                                                                  tmp_path):
    server = make_devserver()
    configure(home, server)
    opened = tmp_path / "opened-url"
    login = await LoginProcess.start(login_env(home, desktop=True, browser_log=opened))
    try:
        kind, url = await login.instructions()
        assert kind == "browser"
        assert await recorded_url(opened) == url
        await sign_in_in_browser(url)
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err


async def test_login_under_ssh_uses_a_device_code_even_with_a_display(make_devserver, home,
                                                                       tmp_path):
    server = make_devserver()
    configure(home, server)
    login = await LoginProcess.start(login_env(home, desktop=True, ssh=True), "--no-browser")
    try:
        kind, user_code = await login.instructions()
        assert kind == "device"
        server.approve(user_code)
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err


async def test_login_falls_back_to_the_browser_when_the_device_grant_is_refused(
        make_devserver, home):
    server = make_devserver()
    configure(home, server)
    server.add_fault("device_authorization", "status", status=400, error="unauthorized_client")
    login = await LoginProcess.start(login_env(home, ssh=True), "--no-browser")
    try:
        kind, url = await login.instructions()
        assert kind == "browser"
        await sign_in_in_browser(url)
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 0, out + err
    assert "refused the device sign-in" in err and "browser flow instead" in err


async def test_a_denied_browser_sign_in_exits_3_with_the_reason(make_devserver, home):
    server = make_devserver()
    configure(home, server)
    login = await LoginProcess.start(login_env(home), "--flow", "browser", "--no-browser")
    try:
        _, url = await login.instructions()
        await sign_in_in_browser(url, action="deny")
        code, out, err = await login.finish()
    finally:
        await login.stop()
    assert code == 3, out + err
    assert "denied" in err
