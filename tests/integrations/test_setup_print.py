"""``tokenwarden setup TOOL --print`` shows the change and writes nothing."""

from __future__ import annotations

import json

from tests.integrations.conftest import run, tokenwarden


def test_print_writes_nothing_for_any_tool(tool_env, tmp_path):
    env = {**tool_env, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"),
           "KUBECONFIG": str(tmp_path / "kubeconfig"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}
    git = run(tokenwarden("setup", "git", "--url", "https://git.example.com", "--print"), env)
    assert git.returncode == 0, git.stderr
    assert "credential.https://git.example.com.helper" in git.stdout
    kube = run(tokenwarden("setup", "kubectl", "--profile", "work", "--print"), env)
    assert kube.returncode == 0, kube.stderr
    assert "--exec-api-version=client.authentication.k8s.io/v1" in kube.stdout
    claude = run(tokenwarden("setup", "claude-code", "--print"), env)
    assert claude.returncode == 0, claude.stderr
    shown = json.loads(claude.stdout.split("\n", 1)[1])
    assert shown["apiKeyHelper"].endswith("token --min-validity 360")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user-home"]
