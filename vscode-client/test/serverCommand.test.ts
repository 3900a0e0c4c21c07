import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeCommand, findOnPath, installHint, resolveServerCommand } from '../src/common/serverCommand';

describe('resolveServerCommand', () => {
  it('prefers the setting', () => {
    expect(
      resolveServerCommand({ configured: ['/venv/bin/tokenwarden', 'serve'], tokenwardenOnPath: '/usr/bin/tokenwarden', pythonInterpreter: ['python'] }),
    ).toEqual({ command: '/venv/bin/tokenwarden', args: ['serve'], source: 'setting' });
  });

  it('then tokenwarden on PATH', () => {
    expect(resolveServerCommand({ configured: [], tokenwardenOnPath: '/usr/bin/tokenwarden', pythonInterpreter: ['python'] })).toEqual({
      command: '/usr/bin/tokenwarden',
      args: ['serve'],
      source: 'path',
    });
  });

  it('then python -m tokenwarden with the Python extension interpreter', () => {
    expect(resolveServerCommand({ configured: [], tokenwardenOnPath: undefined, pythonInterpreter: ['conda', 'run', 'python'] })).toEqual({
      command: 'conda',
      args: ['run', 'python', '-m', 'tokenwarden', 'serve'],
      source: 'python',
    });
  });

  it('runs the bundled server with the Python found for it, before anything on PATH', () => {
    expect(
      resolveServerCommand({
        configured: [],
        tokenwardenOnPath: '/usr/bin/tokenwarden',
        pythonInterpreter: ['python'],
        bundled: { launcher: '/ext/bundled/launch.py', python: ['/usr/bin/python3.11'] },
      }),
    ).toEqual({ command: '/usr/bin/python3.11', args: ['-I', '-S', '/ext/bundled/launch.py', 'serve'], source: 'bundled' });
  });

  it('the setting still wins over the bundled server', () => {
    expect(
      resolveServerCommand({
        configured: ['/venv/bin/tokenwarden', 'serve'],
        tokenwardenOnPath: undefined,
        pythonInterpreter: undefined,
        bundled: { launcher: '/ext/bundled/launch.py', python: ['/usr/bin/python3'] },
      }).source,
    ).toBe('setting');
  });

  it('without a Python for the bundled server: tokenwarden on PATH, or the reason why not', () => {
    const bundled = { launcher: '/ext/bundled/launch.py', python: undefined, problem: 'needs Python 3.11 (found 3.9)' };
    expect(resolveServerCommand({ configured: [], tokenwardenOnPath: '/usr/bin/tokenwarden', pythonInterpreter: undefined, bundled }).source).toBe(
      'path',
    );
    const none = resolveServerCommand({ configured: [], tokenwardenOnPath: undefined, pythonInterpreter: ['python3.9'], bundled });
    expect(none.source).toBe('fallback');
    expect(installHint(none)).toBe('needs Python 3.11 (found 3.9)');
  });

  it('else plain tokenwarden serve', () => {
    expect(resolveServerCommand({ configured: [], tokenwardenOnPath: undefined, pythonInterpreter: undefined })).toEqual({
      command: 'tokenwarden',
      args: ['serve'],
      source: 'fallback',
    });
  });
});

describe('messages', () => {
  it('quote arguments with spaces', () => {
    expect(describeCommand({ command: '/My Python/python', args: ['-m', 'tokenwarden', 'serve'], source: 'python' })).toBe(
      '"/My Python/python" -m tokenwarden serve',
    );
  });

  it('tell what to install', () => {
    expect(installHint({ command: 'tokenwarden', args: ['serve'], source: 'fallback' })).toContain('pip install tokenwarden');
    expect(installHint({ command: '/py', args: [], source: 'python' })).toContain('"/py" -m pip install tokenwarden');
    expect(installHint({ command: '/x', args: [], source: 'setting' })).toContain('tokenwarden.server.command');
  });
});

describe('findOnPath', () => {
  it('finds an executable file and ignores non-executable ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-path-'));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-path-'));
    fs.writeFileSync(path.join(other, 'tokenwarden'), '', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'tokenwarden'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findOnPath('tokenwarden', [other, dir].join(path.delimiter))).toBe(path.join(dir, 'tokenwarden'));
    expect(findOnPath('tokenwarden', other)).toBeUndefined();
    expect(findOnPath('tokenwarden', '')).toBeUndefined();
  });
});
