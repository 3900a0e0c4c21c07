import { describe, expect, it } from 'vitest';
import { findInterpreter, noInterpreterMessage, parseVersion, probePython, type Probe } from '../src/common/interpreter';

const versions: Record<string, readonly [number, number] | undefined> = {
  '/opt/py312/bin/python3': [3, 12],
  '/usr/bin/python3': [3, 9],
  '/usr/local/bin/python3.11': [3, 11],
};
const probe: Probe = async (argv) => {
  const version = versions[argv[0] ?? ''];
  return version === undefined ? { error: 'not found' } : { version };
};

describe('findInterpreter', () => {
  it('takes the first candidate that is Python 3.11 or newer, in order', async () => {
    const search = await findInterpreter(
      [
        { argv: ['/usr/bin/python3'], origin: 'python extension' },
        { argv: ['/usr/local/bin/python3.11'], origin: 'PATH' },
        { argv: ['/opt/py312/bin/python3'], origin: 'PATH' },
      ],
      probe,
    );
    expect(search.found).toEqual({ argv: ['/usr/local/bin/python3.11'], origin: 'PATH', version: [3, 11] });
    expect(search.rejected).toEqual(['/usr/bin/python3 (python extension): Python 3.9 is older than 3.11']);
  });

  it('prefers the setting over everything else', async () => {
    const search = await findInterpreter(
      [
        { argv: ['/opt/py312/bin/python3'], origin: 'setting' },
        { argv: ['/usr/local/bin/python3.11'], origin: 'PATH' },
      ],
      probe,
    );
    expect(search.found?.origin).toBe('setting');
  });

  it('tries each interpreter once', async () => {
    const tried: string[] = [];
    await findInterpreter(
      [
        { argv: ['/usr/bin/python3'], origin: 'python extension' },
        { argv: ['/usr/bin/python3'], origin: 'PATH' },
      ],
      async (argv) => {
        tried.push(argv.join(' '));
        return probe(argv);
      },
    );
    expect(tried).toEqual(['/usr/bin/python3']);
  });

  it('says exactly what is missing when no Python is new enough', async () => {
    const search = await findInterpreter(
      [
        { argv: ['/usr/bin/python3'], origin: 'PATH' },
        { argv: ['/nowhere/python'], origin: 'setting' },
      ],
      probe,
    );
    expect(search.found).toBeUndefined();
    const message = noInterpreterMessage(search);
    expect(message).toContain('needs Python 3.11 or newer');
    expect(message).toContain('/usr/bin/python3 (PATH): Python 3.9 is older than 3.11');
    expect(message).toContain('/nowhere/python (setting): not found');
    expect(message).toContain('tokenwarden.server.python');
  });

  it('says so when there is no Python at all', () => {
    expect(noInterpreterMessage({ rejected: [] })).toContain('No python3 or python was found on PATH');
  });
});

describe('probePython', () => {
  it('reads the version of a real interpreter', async () => {
    const result = await probePython(['python3']);
    expect(result.version?.[0]).toBe(3);
  });

  it('reports a missing interpreter as not found', async () => {
    expect(await probePython(['/no/such/python'])).toEqual({ error: 'not found' });
  });

  it('parses only a major.minor answer', () => {
    expect(parseVersion('3.12\n')).toEqual([3, 12]);
    expect(parseVersion('Python 3.12')).toBeUndefined();
  });
});
