/**
 * Which command starts the server, and what to tell the user when it cannot.
 *
 * Order (docs/vscode.md, "Which server runs"):
 * 1. the `tokenwarden.server.command` setting;
 * 2. the server bundled in the extension, run by the first Python ≥ 3.11 found
 *    (`tokenwarden.server.python`, the Python extension's interpreter, `python3`
 *    or `python` on PATH) as `python -I -S bundled/launch.py serve`;
 * 3. `tokenwarden` on PATH (an installed server; the universal package has no
 *    bundled copy);
 * 4. `python -m tokenwarden` with the interpreter selected in the Python extension;
 * 5. plain `tokenwarden serve`, which fails with an actionable message.
 * No `vscode` import: unit-testable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CommandSource = 'setting' | 'bundled' | 'path' | 'python' | 'fallback';

export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
  /** Why the bundled server could not be used (no Python ≥ 3.11), when it was there. */
  bundledProblem?: string;
}

/** The bundled server: its launcher script and the interpreter chosen to run it. */
export interface BundledServer {
  launcher: string;
  /** The interpreter as an argument vector; undefined when none is new enough. */
  python: readonly string[] | undefined;
  /** Why no interpreter was taken (see interpreter.ts), shown when nothing else works. */
  problem?: string;
}

export interface CommandInputs {
  /** From `tokenwarden.server.command`; empty means unset. */
  configured: readonly string[];
  /** Absolute path of `tokenwarden` on PATH, if any. */
  tokenwardenOnPath: string | undefined;
  /** The Python extension's active interpreter as an argument vector, if any. */
  pythonInterpreter: readonly string[] | undefined;
  /** The server bundled in the extension, when the package has one. */
  bundled?: BundledServer;
}

/** Picks the server command following the documented order. */
export function resolveServerCommand(inputs: CommandInputs): ServerCommand {
  const [configuredExe, ...configuredArgs] = inputs.configured;
  if (configuredExe !== undefined) {
    return { command: configuredExe, args: configuredArgs, source: 'setting' };
  }
  const [bundledPython, ...bundledArgs] = inputs.bundled?.python ?? [];
  if (inputs.bundled !== undefined && bundledPython !== undefined) {
    return { command: bundledPython, args: [...bundledArgs, '-I', '-S', inputs.bundled.launcher, 'serve'], source: 'bundled' };
  }
  const problem = inputs.bundled?.problem;
  const withProblem = (cmd: ServerCommand): ServerCommand => (problem === undefined ? cmd : { ...cmd, bundledProblem: problem });
  if (inputs.tokenwardenOnPath !== undefined) {
    return withProblem({ command: inputs.tokenwardenOnPath, args: ['serve'], source: 'path' });
  }
  const [pythonExe, ...pythonArgs] = inputs.pythonInterpreter ?? [];
  if (pythonExe !== undefined && problem === undefined) {
    return { command: pythonExe, args: [...pythonArgs, '-m', 'tokenwarden', 'serve'], source: 'python' };
  }
  return withProblem({ command: 'tokenwarden', args: ['serve'], source: 'fallback' });
}

/** Where the command came from, for the log and the status: one short phrase. */
export function describeSource(cmd: ServerCommand): string {
  switch (cmd.source) {
    case 'setting':
      return 'the tokenwarden.server.command setting';
    case 'bundled':
      return 'the server bundled in the extension';
    case 'path':
      return 'tokenwarden on PATH';
    case 'python':
      return "the Python extension's interpreter";
    default:
      return 'no server found';
  }
}

/** The command line as one string for messages and logs. */
export function describeCommand(cmd: ServerCommand): string {
  return [cmd.command, ...cmd.args].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(' ');
}

/** What to install or change so that `cmd` works: one sentence for a notification. */
export function installHint(cmd: ServerCommand): string {
  if (cmd.bundledProblem !== undefined && cmd.source === 'fallback') {
    return cmd.bundledProblem;
  }
  switch (cmd.source) {
    case 'bundled':
      return 'The bundled server could not start with this Python: set tokenwarden.server.python to another Python 3.11+, or set tokenwarden.server.command.';
    case 'python':
      return `Install it into the selected Python environment: "${cmd.command}" -m pip install tokenwarden, or set tokenwarden.server.command.`;
    case 'setting':
      return 'Check the tokenwarden.server.command setting, or install the server with: pip install tokenwarden.';
    default:
      return 'Install it with: pip install tokenwarden (or pipx install tokenwarden), or set tokenwarden.server.command.';
  }
}

/** Absolute path of an executable named `name` on `pathVariable`, or undefined. */
export function findOnPath(name: string, pathVariable: string | undefined = process.env.PATH): string | undefined {
  const extensions = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const dir of (pathVariable ?? '').split(path.delimiter)) {
    if (dir === '') {
      continue;
    }
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
