"""kubectl with tokenwarden as its exec credential plugin, against a stub API server."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.integrations.conftest import run, tokenwarden
from tests.integrations.kube_api import KubeAPI
from tests.integrations.tls import self_signed


def kubectl_minor() -> int:
    """kubectl's client minor version, 0 when it is missing."""
    if shutil.which("kubectl") is None:
        return 0
    done = run(["kubectl", "version", "--client", "-o", "json"])
    try:
        return int(json.loads(done.stdout)["clientVersion"]["minor"].rstrip("+"))
    except (ValueError, KeyError):
        return 0


# ExecCredential v1 is read by kubectl 1.22 and later (Debian 12's own package is 1.20).
pytestmark = pytest.mark.skipif(kubectl_minor() < 22, reason="needs kubectl >= 1.22")


@pytest.fixture
def kube_api(make_devserver, tmp_path):
    apis: list[KubeAPI] = []
    cert, context = self_signed(tmp_path)

    def start(server) -> KubeAPI:
        api = KubeAPI(server.url("/userinfo"), context).start()
        api.certificate = cert
        apis.append(api)
        return api

    yield start
    for api in apis:
        api.stop()


def kubeconfig_for(api: KubeAPI, env: dict[str, str], folder: Path) -> dict[str, str]:
    """A kubeconfig with one cluster and context, the user set up by ``tokenwarden setup``."""
    env = {**env, "KUBECONFIG": str(folder / "kubeconfig"), "KUBECACHEDIR": str(folder / "cache")}
    for step in (["config", "set-cluster", "stub", f"--server={api.base}",
                  f"--certificate-authority={api.certificate}"],
                 ["config", "set-context", "stub", "--cluster=stub"],
                 ["config", "use-context", "stub"]):
        done = run(["kubectl", *step], env)
        assert done.returncode == 0, done.stderr
    done = run(tokenwarden("setup", "kubectl", "--context", "stub"), env)
    assert done.returncode == 0, done.stderr
    return env


def test_token_format_exec_credential_is_what_kubectl_reads(signed_in, tool_env):
    asyncio.run(signed_in(600.0))
    done = run(tokenwarden("token", "--format", "exec-credential"), tool_env)
    assert done.returncode == 0, done.stderr
    credential = json.loads(done.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["kind"] == "ExecCredential"
    assert len(credential["status"]["token"]) > 10
    assert credential["status"]["expirationTimestamp"].endswith("Z")


@pytest.mark.slow
async def test_kubectl_across_four_token_lifetimes_gets_no_401(
    signed_in, kube_api, tool_env, tmp_path
):
    server = await signed_in(3.0)
    api = kube_api(server)
    env = kubeconfig_for(api, tool_env, tmp_path)
    refreshes = server.stats()["refresh_ok"]
    failed, runs = [], 0
    # Five rounds, each after a full token lifetime: every round needs a new token,
    # however fast or slow the machine is; its second run reuses the first one's.
    for _ in range(5):
        await asyncio.sleep(3.0)
        for _ in range(2):
            done = await asyncio.to_thread(
                run, ["kubectl", "get", "--raw", "/api/v1/namespaces"], env)
            runs += 1
            if done.returncode != 0 or json.loads(done.stdout)["kind"] != "NamespaceList":
                failed.append(done.stderr)
    stats = server.stats()
    print(f"\nFIGURES kubectl: runs={runs} failed={len(failed)} 401s={api.check.rejected} "
          f"refreshes={stats['refresh_ok'] - refreshes} reuse={stats['reuse_detected']}")
    assert failed == []
    assert api.check.rejected == 0 and api.check.challenged == 0
    assert api.check.accepted == runs
    assert server.stats()["refresh_ok"] - refreshes >= 4
    assert server.stats()["reuse_detected"] == 0


async def test_kubectl_without_a_session_shows_our_one_line(
    make_devserver, kube_api, home, tool_env, tmp_path
):
    from tests.core.conftest import configure

    server = make_devserver()
    configure(home, server)
    env = kubeconfig_for(kube_api(server), tool_env, tmp_path)
    done = await asyncio.to_thread(run, ["kubectl", "get", "--raw", "/api"], env)
    assert done.returncode != 0
    assert "tokenwarden login" in done.stderr
    assert "Traceback" not in done.stderr


def test_setup_kubectl_is_idempotent_keeps_other_entries_and_undoes(tool_env, tmp_path):
    env = {**tool_env, "KUBECONFIG": str(tmp_path / "kubeconfig")}
    assert run(["kubectl", "config", "set-credentials", "alice", "--token=keep-me"],
               env).returncode == 0
    first = run(tokenwarden("setup", "kubectl", "--profile", "work"), env)
    assert first.returncode == 0, first.stderr
    after_first = (tmp_path / "kubeconfig").read_text()
    second = run(tokenwarden("setup", "kubectl", "--profile", "work"), env)
    assert second.returncode == 0 and "already" in second.stdout
    assert (tmp_path / "kubeconfig").read_text() == after_first
    view = json.loads(run(["kubectl", "config", "view", "--raw", "-o", "json"], env).stdout)
    users = {u["name"]: u["user"] for u in view["users"]}
    assert users["alice"] == {"token": "keep-me"}
    plugin = users["tokenwarden-work"]["exec"]
    assert plugin["apiVersion"] == "client.authentication.k8s.io/v1"
    assert plugin["args"][-2:] == ["--profile", "work"]
    assert plugin["interactiveMode"] == "Never"
    undo = run(tokenwarden("setup", "kubectl", "--profile", "work", "--undo"), env)
    assert undo.returncode == 0, undo.stderr
    view = json.loads(run(["kubectl", "config", "view", "--raw", "-o", "json"], env).stdout)
    assert [u["name"] for u in view["users"]] == ["alice"]
