/**
 * Which command starts the server, and what to tell the user when it cannot.
 *
 * Order: the `tokenwarden.server.command` setting; `tokenwarden` on PATH;
 * `python -m tokenwarden` with the interpreter selected in the Python
 * extension; plain `tokenwarden serve` (which fails with an actionable
 * message). No `vscode` import: unit-testable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CommandSource = 'setting' | 'path' | 'python' | 'fallback';

export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
}

export interface CommandInputs {
  /** From `tokenwarden.server.command`; empty means unset. */
  configured: readonly string[];
  /** Absolute path of `tokenwarden` on PATH, if any. */
  tokenwardenOnPath: string | undefined;
  /** The Python extension's active interpreter as an argument vector, if any. */
  pythonInterpreter: readonly string[] | undefined;
}

/** Picks the server command following the documented order. */
export function resolveServerCommand(inputs: CommandInputs): ServerCommand {
  const [configuredExe, ...configuredArgs] = inputs.configured;
  if (configuredExe !== undefined) {
    return { command: configuredExe, args: configuredArgs, source: 'setting' };
  }
  if (inputs.tokenwardenOnPath !== undefined) {
    return { command: inputs.tokenwardenOnPath, args: ['serve'], source: 'path' };
  }
  const [pythonExe, ...pythonArgs] = inputs.pythonInterpreter ?? [];
  if (pythonExe !== undefined) {
    return { command: pythonExe, args: [...pythonArgs, '-m', 'tokenwarden', 'serve'], source: 'python' };
  }
  return { command: 'tokenwarden', args: ['serve'], source: 'fallback' };
}

/** The command line as one string for messages and logs. */
export function describeCommand(cmd: ServerCommand): string {
  return [cmd.command, ...cmd.args].map((part) => (/\s/.test(part) ? JSON.stringify(part) : part)).join(' ');
}

/** What to install or change so that `cmd` works: one sentence for a notification. */
export function installHint(cmd: ServerCommand): string {
  switch (cmd.source) {
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
