"""Real git over smart HTTP with tokenwarden as its credential helper, across token expiries."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.core.conftest import configure
from tests.integrations.conftest import run, tokenwarden
from tests.integrations.git_server import GitServer


@pytest.fixture
def git_server(tmp_path):
    servers: list[GitServer] = []

    def start(devserver) -> GitServer:
        root = tmp_path / "served"
        root.mkdir()
        server = GitServer(devserver.url("/userinfo"), root).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def git_env(env: dict[str, str], folder: Path) -> dict[str, str]:
    """git with a temporary global config, no system config and no prompts."""
    return {**env, "GIT_CONFIG_GLOBAL": str(folder / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example",
            "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example"}


def git(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    done = run(["git", *(["-C", str(cwd)] if cwd else []), *args], env)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def served_repository(server: GitServer, env: dict[str, str], folder: Path) -> str:
    """A bare repository with one commit, served over HTTP; its URL."""
    git(env, "init", "-q", "--bare", "-b", "main", str(server.root / "repo.git"))
    seed = folder / "seed"
    git(env, "init", "-q", "-b", "main", str(seed))
    (seed / "README").write_text("seed\n")
    git(env, "add", "README", cwd=seed)
    git(env, "commit", "-qm", "seed", cwd=seed)
    git(env, "push", "-q", str(server.root / "repo.git"), "main", cwd=seed)
    return f"{server.base}/repo.git"


def set_up_git(server: GitServer, env: dict[str, str]) -> None:
    done = run(tokenwarden("setup", "git", "--url", server.base), env)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
async def test_clone_push_fetch_across_four_token_lifetimes_never_sends_a_dead_token(
    signed_in, git_server, tool_env, tmp_path
):
    # git keeps one credential for a whole command, so the token must outlive the
    # slowest command on a loaded machine: the helper gives half of an 8 s lifetime.
    lifetime = 8.0
    devserver = await signed_in(lifetime)
    server = git_server(devserver)
    env = git_env(tool_env, tmp_path)
    url = served_repository(server, env, tmp_path)
    set_up_git(server, env)
    refreshes = devserver.stats()["refresh_ok"]
    work = tmp_path / "work"
    await asyncio.to_thread(git, env, "clone", "-q", url, str(work))
    (work / "log").write_text("0\n")
    git(env, "add", "log", cwd=work)
    failed, runs = [], 1
    # Four rounds, each after a full token lifetime: every round needs a new token,
    # however fast or slow the machine is, and its fetch reuses the push's token.
    for round_ in range(1, 5):
        await asyncio.sleep(lifetime)
        (work / "log").write_text(f"{round_}\n")
        git(env, "commit", "-qam", f"change {round_}", cwd=work)
        for args in (["push", "-q", "origin", "main"], ["fetch", "-q", "origin"]):
            done = await asyncio.to_thread(run, ["git", "-C", str(work), *args], env)
            runs += 1
            if done.returncode != 0:
                failed.append(done.stderr)
    stats = devserver.stats()
    print(f"\nFIGURES git: runs={runs} failed={len(failed)} refused={server.check.rejected} "
          f"challenges={server.check.challenged} refreshes={stats['refresh_ok'] - refreshes} "
          f"reuse={stats['reuse_detected']}")
    assert failed == []
    assert server.check.rejected == 0
    assert stats["refresh_ok"] - refreshes >= 4
    assert stats["reuse_detected"] == 0
    log = git(env, "--git-dir", str(server.root / "repo.git"), "log", "--oneline", "main")
    assert len(log.splitlines()) == 1 + 4  # the seed and one commit per round


async def test_without_a_session_git_gets_no_password_and_our_line(
    make_devserver, home, git_server, tool_env, tmp_path
):
    devserver = make_devserver()
    configure(home, devserver)
    server = git_server(devserver)
    env = git_env(tool_env, tmp_path)
    url = served_repository(server, env, tmp_path)
    set_up_git(server, env)
    done = await asyncio.to_thread(run, ["git", "ls-remote", url], env)
    assert done.returncode != 0
    assert "tokenwarden login" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.check.rejected == 0  # git never sent an empty password


def test_get_prints_nothing_without_a_session(make_devserver, home, tool_env):
    configure(home, make_devserver())
    done = run(tokenwarden("git-credential", "get"), tool_env,
               input="protocol=https\nhost=git.example.com\n\n")
    assert done.returncode == 0
    assert done.stdout == ""
    assert "tokenwarden login" in done.stderr


async def test_get_answers_only_for_its_url(signed_in, tool_env):
    await signed_in(600.0)
    helper = tokenwarden("git-credential", "--url", "https://git.example.com/team", "get")
    other = run(helper, tool_env, input="protocol=https\nhost=evil.example.com\n\n")
    assert other.returncode == 0 and other.stdout == ""
    other_path = run(helper, tool_env,
                     input="protocol=https\nhost=git.example.com\npath=teamx/r.git\n\n")
    assert other_path.stdout == ""
    plain = run(helper, tool_env, input="protocol=http\nhost=git.example.com\n\n")
    assert plain.stdout == ""
    ours = run(helper, tool_env,
               input="protocol=https\nhost=git.example.com\npath=team/r.git\n\n")
    lines = ours.stdout.splitlines()
    assert lines[0] == "username=oauth2"
    assert lines[1].startswith("password=") and len(lines[1]) > 20


async def test_a_refused_token_is_renewed_once_on_erase_and_the_next_command_works(
    signed_in, git_server, tool_env, tmp_path
):
    devserver = await signed_in(600.0)
    server = git_server(devserver)
    env = git_env(tool_env, tmp_path)
    url = served_repository(server, env, tmp_path)
    set_up_git(server, env)
    git(env, "ls-remote", url)
    old = run(tokenwarden("token"), env).stdout.strip()
    devserver.expire_access_tokens()  # the server forgets them; our store still trusts it
    refreshes = devserver.stats()["refresh_ok"]
    refused = await asyncio.to_thread(run, ["git", "ls-remote", url], env)
    assert refused.returncode != 0  # git does not retry within one command
    assert devserver.stats()["refresh_ok"] == refreshes + 1
    again = run(tokenwarden("git-credential", "--url", server.base, "erase"), env,
                input=f"protocol=http\nhost={server.base[7:]}\nusername=oauth2\n"
                      f"password={old}\n\n")
    assert again.returncode == 0
    assert devserver.stats()["refresh_ok"] == refreshes + 1  # never loops on one token
    await asyncio.to_thread(git, env, "ls-remote", url)


async def test_a_helper_set_up_for_one_repository_gives_no_password_to_another(
    signed_in, git_server, tool_env, tmp_path
):
    devserver = await signed_in(600.0)
    server = git_server(devserver)
    env = git_env(tool_env, tmp_path)
    url = served_repository(server, env, tmp_path)
    git(env, "init", "-q", "--bare", str(server.root / "other.git"))
    done = run(tokenwarden("setup", "git", "--url", url), env)
    assert done.returncode == 0, done.stderr
    assert git(env, "config", "--global",
               f"credential.{server.base}.useHttpPath").strip() == "true"
    await asyncio.to_thread(git, env, "ls-remote", url)
    accepted = server.check.accepted
    other = await asyncio.to_thread(run, ["git", "ls-remote", f"{server.base}/other.git"], env)
    assert other.returncode != 0  # no password: git cannot prompt either
    assert server.check.accepted == accepted and server.check.rejected == 0
    undo = run(tokenwarden("setup", "git", "--url", url, "--undo"), env)
    assert undo.returncode == 0, undo.stderr
    assert (tmp_path / "gitconfig").read_text().count("tokenwarden") == 0
    assert "useHttpPath" not in (tmp_path / "gitconfig").read_text()


def test_setup_git_is_idempotent_keeps_the_rest_and_undoes(tool_env, tmp_path):
    env = git_env(tool_env, tmp_path)
    git(env, "config", "--global", "user.name", "Keep Me")
    git(env, "config", "--global", "credential.helper", "store")
    url = "https://git.example.com"
    assert run(tokenwarden("setup", "git", "--url", url, "--profile", "work"),
               env).returncode == 0
    after_first = (tmp_path / "gitconfig").read_text()
    second = run(tokenwarden("setup", "git", "--url", url, "--profile", "work"), env)
    assert second.returncode == 0 and "already" in second.stdout
    assert (tmp_path / "gitconfig").read_text() == after_first
    helpers = git(env, "config", "--global", "--get-all",
                  f"credential.{url}.helper").splitlines()
    assert helpers[0] == ""
    assert helpers[1].startswith("!") and "git-credential --profile work --url" in helpers[1]
    undo = run(tokenwarden("setup", "git", "--url", url, "--undo"), env)
    assert undo.returncode == 0, undo.stderr
    assert run(["git", "config", "--global", "--get-all", f"credential.{url}.helper"],
               env).stdout == ""
    assert git(env, "config", "--global", "user.name").strip() == "Keep Me"
    assert git(env, "config", "--global", "credential.helper").strip() == "store"


def test_setup_git_without_url_says_what_to_give(tool_env, tmp_path):
    done = run(tokenwarden("setup", "git"), git_env(tool_env, tmp_path))
    assert done.returncode == 2
    assert "--url" in done.stderr and "Traceback" not in done.stderr
