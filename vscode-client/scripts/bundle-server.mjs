// Bundles the tokenwarden server and its pinned dependencies into bundled/libs,
// so that the .vsix needs only a Python 3.11+ on the machine.
//
// Usage: node scripts/bundle-server.mjs     (from vscode-client/)
// Env:   TW_BUNDLE_PYTHON  the Python whose pip does the work (default: the
//        repository's .venv, else python3). The bundle itself is pure Python and
//        runs on any CPython 3.11+ on any platform.
//
// What goes in: requirements.lock at the repository root, minus the packages the
// server never imports at run time (authlib declares them for JOSE, OpenID
// Connect and OAuth 1, which tokenwarden does not use; see
// server/tokenwarden/authlib_client.py). They are also the only ones with
// compiled code, so one universal package serves Linux, macOS and Windows alike.
// The build fails if a compiled file slips in: then per-target packages
// (vsce package --target ...) would be needed, built from the matching wheels.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.resolve(HERE, '..');
const REPO = path.resolve(CLIENT, '..');
const LIBS = path.join(CLIENT, 'bundled', 'libs');
const LAUNCHER = path.join(CLIENT, 'bundled', 'launch.py');
const LOCK = path.join(REPO, 'requirements.lock');
/** Declared by authlib, never imported by the server; the only compiled ones. */
export const LEFT_OUT = ['cryptography', 'cffi', 'pycparser', 'joserfc'];
const COMPILED = /\.(so|pyd|dylib|dll)$/i;

function python() {
  const given = process.env.TW_BUNDLE_PYTHON;
  if (given) {
    // A path is taken from where the command was run; a bare name is looked up on PATH.
    return given.includes('/') || given.includes(path.sep) ? path.resolve(given) : given;
  }
  const venv = path.join(REPO, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
  return fs.existsSync(venv) ? venv : 'python3';
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: REPO });
  if (result.error !== undefined) {
    throw new Error(`cannot run ${command}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (status ${result.status ?? result.signal})`);
  }
}

function requirements() {
  const wanted = [];
  for (const raw of fs.readFileSync(LOCK, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const name = line.split('==')[0].toLowerCase().replace(/_/g, '-');
    if (!LEFT_OUT.includes(name)) {
      wanted.push(line);
    }
  }
  return wanted;
}

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* files(full);
    } else {
      yield full;
    }
  }
}

function main() {
  const py = python();
  fs.rmSync(LIBS, { recursive: true, force: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-bundle-'));
  try {
    const list = path.join(work, 'requirements.txt');
    fs.writeFileSync(list, requirements().join('\n') + '\n');
    const pip = [
      '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--no-compile',
      '--target', LIBS,
    ];
    run(py, [...pip, '--only-binary=:all:', '-r', list]);
    run(py, [...pip, REPO]);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  fs.rmSync(path.join(LIBS, 'bin'), { recursive: true, force: true });
  const compiled = [...files(LIBS)].filter((file) => COMPILED.test(file));
  if (compiled.length > 0) {
    throw new Error(`compiled files in the bundle (build per-target packages instead): ${compiled.join(', ')}`);
  }
  for (const name of LEFT_OUT) {
    if (fs.existsSync(path.join(LIBS, name))) {
      throw new Error(`${name} should have been left out of the bundle`);
    }
  }
  // The bundled server must start on its own (-S: not even the site-packages of the
  // Python that built it).
  run(py, ['-I', '-S', LAUNCHER, '--version']);
  run(py, ['-I', '-S', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(LIBS)}); import tokenwarden.lsp.server, tokenwarden.oauth, tokenwarden.session`]);
  const bytes = [...files(LIBS)].reduce((sum, file) => sum + fs.statSync(file).size, 0);
  console.log(`bundled the server into ${path.relative(CLIENT, LIBS)}: ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
}

main();
