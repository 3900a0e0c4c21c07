import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  knownProfiles,
  parseServerCommand,
  profileForScopes,
  readSettings,
  splitCommandLine,
  toInitializationOptions,
  type InitializationOptions,
} from '../src/common/settings';

const unset = { profile: undefined, profiles: undefined, warnBeforeExpirySeconds: undefined, openBrowser: undefined };

function reader(values: Record<string, unknown>) {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

describe('toInitializationOptions', () => {
  it('defaults every field when nothing is set', () => {
    const problems: string[] = [];
    expect(toInitializationOptions(unset, problems)).toEqual({
      profile: 'default',
      profiles: {},
      warnBeforeExpirySeconds: 300,
      openBrowser: true,
    });
    expect(problems).toEqual([]);
  });

  it('passes valid values through with the contract keys', () => {
    const options = toInitializationOptions({
      profile: 'work',
      profiles: { work: { issuer: 'https://id.example.com', client_id: 'cli', scopes: ['openid', 'api'], audience: 'api' } },
      warnBeforeExpirySeconds: 120,
      openBrowser: false,
    });
    expect(options).toEqual({
      profile: 'work',
      profiles: { work: { issuer: 'https://id.example.com', client_id: 'cli', scopes: ['openid', 'api'], audience: 'api' } },
      warnBeforeExpirySeconds: 120,
      openBrowser: false,
    });
    expect(Object.keys(options).sort()).toEqual(['openBrowser', 'profile', 'profiles', 'warnBeforeExpirySeconds']);
  });

  it('keeps endpoint overrides and unknown profile keys unchanged', () => {
    const options = toInitializationOptions({
      ...unset,
      profiles: {
        dev: {
          issuer: 'http://127.0.0.1:9999',
          token_endpoint: 'http://127.0.0.1:9999/token',
          device_authorization_endpoint: 'http://127.0.0.1:9999/device',
          revocation_endpoint: 'http://127.0.0.1:9999/revoke',
          userinfo_endpoint: 'http://127.0.0.1:9999/userinfo',
          preset: 'github',
        },
      },
    });
    expect(options.profiles.dev).toEqual({
      issuer: 'http://127.0.0.1:9999',
      token_endpoint: 'http://127.0.0.1:9999/token',
      device_authorization_endpoint: 'http://127.0.0.1:9999/device',
      revocation_endpoint: 'http://127.0.0.1:9999/revoke',
      userinfo_endpoint: 'http://127.0.0.1:9999/userinfo',
      preset: 'github',
    });
  });

  it('accepts scopes as a space-separated string', () => {
    const options = toInitializationOptions({ ...unset, profiles: { p: { scopes: 'openid  offline_access api' } } });
    expect(options.profiles.p?.scopes).toEqual(['openid', 'offline_access', 'api']);
  });

  it('replaces bad values by defaults and names the setting in a problem', () => {
    const problems: string[] = [];
    const options = toInitializationOptions(
      { profile: 42, profiles: { ok: {}, bad: 'nope' }, warnBeforeExpirySeconds: -5, openBrowser: 'yes' },
      problems,
    );
    expect(options).toEqual({ ...DEFAULTS, profiles: { ok: {} } });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/tokenwarden\.profile\b/);
    expect(problems.join('\n')).toMatch(/tokenwarden\.profiles\.bad/);
    expect(problems.join('\n')).toMatch(/warnBeforeExpirySeconds/);
    expect(problems.join('\n')).toMatch(/openBrowser/);
  });

  it('drops a mistyped profile key but keeps the profile', () => {
    const problems: string[] = [];
    const options = toInitializationOptions(
      { ...unset, profiles: { p: { issuer: 7, client_id: 'cli', scopes: [1, 2], audience: 3 } } },
      problems,
    );
    expect(options.profiles.p).toEqual({ client_id: 'cli' });
    expect(problems).toHaveLength(3);
  });

  it('rounds warnBeforeExpirySeconds down to whole seconds', () => {
    expect(toInitializationOptions({ ...unset, warnBeforeExpirySeconds: 90.7 }).warnBeforeExpirySeconds).toBe(90);
  });
});

describe('server command setting', () => {
  it('takes an argument array as it is', () => {
    expect(parseServerCommand(['/opt/tw/bin/tokenwarden', 'serve'])).toEqual(['/opt/tw/bin/tokenwarden', 'serve']);
  });

  it('splits a string like a shell, honouring quotes', () => {
    expect(parseServerCommand('python -m tokenwarden serve')).toEqual(['python', '-m', 'tokenwarden', 'serve']);
    expect(splitCommandLine(`"/Program Files/py/python" -m 'token warden' a\\ b`)).toEqual([
      '/Program Files/py/python',
      '-m',
      'token warden',
      'a b',
    ]);
  });

  it('treats empty values as unset', () => {
    expect(parseServerCommand(undefined)).toEqual([]);
    expect(parseServerCommand('')).toEqual([]);
    expect(parseServerCommand([])).toEqual([]);
  });

  it('reports a value of the wrong type', () => {
    const problems: string[] = [];
    expect(parseServerCommand({ cmd: 'x' }, problems)).toEqual([]);
    expect(problems[0]).toMatch(/tokenwarden\.server\.command/);
  });
});

describe('readSettings', () => {
  it('reads every setting through the reader', () => {
    const { settings, problems } = readSettings(
      reader({
        profile: 'dev',
        profiles: { dev: { issuer: 'http://127.0.0.1:1' } },
        warnBeforeExpirySeconds: 60,
        openBrowser: false,
        'server.command': 'tokenwarden serve',
        'server.python': '/opt/python3.12/bin/python3',
        'trace.server': 'verbose',
      }),
    );
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      initializationOptions: {
        profile: 'dev',
        profiles: { dev: { issuer: 'http://127.0.0.1:1' } },
        warnBeforeExpirySeconds: 60,
        openBrowser: false,
      },
      serverCommand: ['tokenwarden', 'serve'],
      serverPython: ['/opt/python3.12/bin/python3'],
      trace: 'verbose',
    });
  });
});

describe('profiles', () => {
  const options: InitializationOptions = {
    ...DEFAULTS,
    profile: 'work',
    profiles: { work: { scopes: ['openid'] }, api: { scopes: ['openid', 'api:read'] } },
  };

  it('lists the active profile first, without duplicates', () => {
    expect(knownProfiles(options)).toEqual(['work', 'api']);
  });

  it('serves scopes from the first profile that covers them, else the active one', () => {
    expect(profileForScopes(options, [])).toBe('work');
    expect(profileForScopes(options, ['api:read'])).toBe('api');
    expect(profileForScopes(options, ['admin'])).toBe('work');
  });
});
