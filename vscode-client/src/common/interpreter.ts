/**
 * Finding a Python that can run the bundled server: the first candidate that is
 * Python 3.11 or newer, in a documented order (the `tokenwarden.server.python`
 * setting, the Python extension's interpreter, `python3` and `python` on PATH).
 * The search is pure over an injected `probe`, so it is unit-tested without
 * spawning anything; `probePython` is the real probe. No `vscode` import.
 */
import { execFile } from 'node:child_process';

export const MINIMUM_PYTHON: readonly [number, number] = [3, 11];
const PROBE_TIMEOUT_MS = 10_000;
/** Prints "3.12" (major.minor); -I: no user site-packages, no PYTHON* variables. */
const VERSION_SCRIPT = 'import sys; print("%d.%d" % sys.version_info[:2])';

export type CandidateOrigin = 'setting' | 'python extension' | 'PATH';

export interface PythonCandidate {
  /** The interpreter as an argument vector (e.g. `["conda", "run", "python"]`). */
  argv: readonly string[];
  origin: CandidateOrigin;
}

export interface ProbeResult {
  /** `[major, minor]`, or undefined when the candidate could not be run. */
  version?: readonly [number, number];
  /** Why it could not be run. */
  error?: string;
}

export type Probe = (argv: readonly string[]) => Promise<ProbeResult>;

export interface InterpreterSearch {
  /** The chosen interpreter, with its version. */
  found?: PythonCandidate & { version: readonly [number, number] };
  /** One line per candidate that was tried and not taken. */
  rejected: string[];
}

/** The first candidate whose version is at least `minimum`; every refusal is explained. */
export async function findInterpreter(
  candidates: readonly PythonCandidate[],
  probe: Probe,
  minimum: readonly [number, number] = MINIMUM_PYTHON,
): Promise<InterpreterSearch> {
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const key = candidate.argv.join('\u0000');
    if (candidate.argv.length === 0 || seen.has(key)) {
      continue;
    }
    seen.add(key);
    const result = await probe(candidate.argv);
    const name = `${candidate.argv.join(' ')} (${candidate.origin})`;
    if (result.version === undefined) {
      rejected.push(`${name}: ${result.error ?? 'could not be run'}`);
    } else if (compareVersions(result.version, minimum) < 0) {
      rejected.push(`${name}: Python ${result.version.join('.')} is older than ${minimum.join('.')}`);
    } else {
      return { found: { ...candidate, version: result.version }, rejected };
    }
  }
  return { rejected };
}

/** What to tell the user when no candidate can run the bundled server. */
export function noInterpreterMessage(search: InterpreterSearch, minimum: readonly [number, number] = MINIMUM_PYTHON): string {
  const tried = search.rejected.length > 0 ? ` Tried: ${search.rejected.join('; ')}.` : ' No python3 or python was found on PATH.';
  return (
    `The bundled tokenwarden server needs Python ${minimum.join('.')} or newer.${tried} ` +
    'Install Python 3.11+, point tokenwarden.server.python at one, or set tokenwarden.server.command.'
  );
}

export function compareVersions(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}

/** Parses the probe's output ("3.12"); undefined when it is not a version. */
export function parseVersion(output: string): readonly [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\s*$/.exec(output.trim());
  return match === null ? undefined : [Number(match[1]), Number(match[2])];
}

/** Runs `argv -I -c <print version>` with a timeout. */
export const probePython: Probe = (argv) =>
  new Promise((resolve) => {
    const [command, ...args] = argv;
    if (command === undefined) {
      resolve({ error: 'empty command' });
      return;
    }
    execFile(command, [...args, '-I', '-c', VERSION_SCRIPT], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
      if (error !== null) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ error: code === 'ENOENT' ? 'not found' : error.message.split('\n')[0] ?? 'failed' });
        return;
      }
      const version = parseVersion(stdout);
      resolve(version === undefined ? { error: `unexpected output "${stdout.trim()}"` } : { version });
    });
  });
