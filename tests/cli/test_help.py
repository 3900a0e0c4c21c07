"""Issue 14 item 8: every ``--help`` starts with what the command does; every option is explained."""

from __future__ import annotations

import argparse

import pytest

from tests.cli.conftest import cli, stderr_lines
from tokenwarden.cli.main import build_parser
from tokenwarden.devserver.cli import build_parser as build_devserver_parser

SUBCOMMANDS = ["token", "login", "logout", "status", "refresh", "doctor", "events", "exec",
               "proxy", "serve", "demo", "git-credential", "setup", "store"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_subcommand_is_covered():
    assert sorted(_subparsers(build_parser())) == sorted([*SUBCOMMANDS, "devserver"])


@pytest.mark.parametrize("command", [*SUBCOMMANDS, "devserver"])
def test_help_starts_with_what_the_command_does(home, command):
    done = cli(home, command, "--help")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    listed = _subparsers(build_parser())[command]
    assert first == listed.summary, first
    assert first.endswith(".") and not first.startswith("usage:")
    assert len(first.split()) >= 3


def _parsers():
    yield "tokenwarden", build_parser()
    for name, sub in _subparsers(build_parser()).items():
        yield f"tokenwarden {name}", sub
    yield "tokenwarden devserver (own parser)", build_devserver_parser()


@pytest.mark.parametrize(("name", "parser"), list(_parsers()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_has_help_text(name, parser):
    missing = [action.dest for action in parser._actions
               if action.help in (None, "") and not isinstance(action, argparse._SubParsersAction)]
    assert missing == [], f"{name}: {missing}"


def test_devserver_ttl_options_are_explained(home):
    text = cli(home, "devserver", "--help").stdout
    options = text[text.index("\noptions:"):]
    for option in ("--access-token-ttl", "--device-code-ttl"):
        block = options[options.index(f"  {option}"):].split("\n  --", 1)[0]
        assert "(default" in block, block


def test_devserver_on_a_public_host_names_the_flag(home):
    done = cli(home, "devserver", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert done.stdout == ""
    assert stderr_lines(done) == [
        "tokenwarden devserver: refusing to bind non-loopback host '0.0.0.0': plain HTTP on "
        "the network; add --allow-remote to do it on purpose"]
