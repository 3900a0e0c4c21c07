#!/usr/bin/env bash
# Install everything the tests need (pinned) and run the whole suite:
# lint, types, Python tests, and the VS Code extension's checks and end-to-end test.
# Safe to re-run; used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

step() { printf '\n=== %s\n' "$*"; }

step "system packages (editors for the editor tests, Glewlwyd for the interop tests, gnome-keyring + dbus)"
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  need=()
  command -v nvim >/dev/null || need+=(neovim)
  command -v emacs >/dev/null || need+=(emacs-nox elpa-eglot)
  command -v glewlwyd >/dev/null || need+=(glewlwyd)
  command -v sqlite3 >/dev/null || need+=(sqlite3)
  command -v git >/dev/null || need+=(git)
  # A preinstalled kubectl conflicts with Debian's package: install it only when missing.
  command -v kubectl >/dev/null || need+=(kubernetes-client)
  # The scale test: libfaketime moves every process's wall clock at a simulated suspend.
  [ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need+=(faketime)
  command -v curl >/dev/null || need+=(curl)
  # store = "keyring" tests: a private gnome-keyring (Secret Service) inside dbus-run-session
  command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || need+=(dbus)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

step "glewlwyd: the interop tests are written against Debian's 2.7.5"
glewlwyd_version=$(dpkg-query -W -f='${Version}' glewlwyd 2>/dev/null || true)
case "$glewlwyd_version" in
  2.7.5-*) echo "glewlwyd $glewlwyd_version" ;;
  *) echo "glewlwyd 2.7.5 is needed (found: ${glewlwyd_version:-none}); apt-get install glewlwyd" >&2
     exit 1 ;;
esac

step "python environment"
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

step "real consumers for tests/integrations: Claude Code (npm, pinned), git, kubectl"
# The npm package installs Claude Code's native binary; the tests run it offline.
(cd tests/integrations/node && npm ci --no-audit --no-fund --loglevel=error)
command -v git >/dev/null || echo "git missing: tests/integrations/test_git.py will fail"
command -v kubectl >/dev/null || echo "kubectl missing: tests/integrations/test_kubectl.py is skipped"

step "ruff"
.venv/bin/ruff check server tests bench
step "mypy --strict"
.venv/bin/mypy

step "interop: node oidc-provider (pinned by tests/interop/node/package-lock.json)"
(cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)

step "pytest (2 workers; a test file stays on one worker, so its server fixtures start once)"
# Serially the suite takes about 19 minutes on 2 cores, with 2 workers about 11: most
# tests wait on token lifetimes and child processes. TOKENWARDEN_TEST_WORKERS=0 runs it
# in one process.
.venv/bin/pytest -q -p no:cacheprovider --durations=15 \
  -n "${TOKENWARDEN_TEST_WORKERS:-2}" --dist loadfile

if [ -f vscode-client/package.json ]; then
  step "vscode-client: install, typecheck, unit tests, bundle the server, package"
  (cd vscode-client && npm ci --no-audit --no-fund --loglevel=error \
     && npm run --silent typecheck && npm test --silent \
     && TW_BUNDLE_PYTHON="$repo/.venv/bin/python" npm run --silent bundle \
     && npm run --silent package)
  if [ "${TOKENWARDEN_SKIP_E2E:-0}" != 1 ]; then
    step "vscode-client: end-to-end in code-server (setup ≈ 5 min the first time)"
    export TOKENWARDEN_BIN="$repo/.venv/bin/tokenwarden"
    bash vscode-client/e2e/setup.sh
    (cd vscode-client && node e2e/run.mjs)
    step "vscode-client: end-to-end with nothing but the .vsix (the bundled server, system python3)"
    (cd vscode-client && TW_E2E_MODE=bundled TW_E2E_OUT="$repo/test-output/vscode-e2e-bundled" node e2e/run.mjs)
  fi
fi
step "all checks passed"
