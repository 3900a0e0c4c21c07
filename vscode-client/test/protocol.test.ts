import { describe, expect, it } from 'vitest';
import {
  announcedProtocolVersion,
  ErrorCodes,
  isLoginStarted,
  isStatus,
  isTokenResult,
  Methods,
  normalizeStatus,
  PROTOCOL_VERSION,
  retryAfterSeconds,
  ServerCommands,
  SESSION_STATES,
  SignInRequiredError,
  TemporarilyUnavailableError,
  tokenErrorFromResponse,
  type Status,
} from '../src/common/protocol';
import { status } from './fixtures';

describe('names of the contract (docs/protocol.md, protocol v1)', () => {
  it('speaks protocol version 1', () => {
    expect(PROTOCOL_VERSION).toBe(1);
  });

  it('uses the custom method names of the contract', () => {
    expect(Methods).toEqual({
      getToken: 'tokenwarden/getToken',
      tokenRejected: 'tokenwarden/tokenRejected',
      didChangeStatus: 'tokenwarden/didChangeStatus',
    });
  });

  it('uses the server command names of the contract', () => {
    expect(Object.values(ServerCommands).sort()).toEqual([
      'tokenwarden.cancelLogin',
      'tokenwarden.login',
      'tokenwarden.logout',
      'tokenwarden.refresh',
      'tokenwarden.status',
    ]);
  });

  it('uses the error codes of the contract', () => {
    expect(ErrorCodes).toEqual({ SignInRequired: -32001, TemporarilyUnavailable: -32002 });
  });

  it('knows the six session states', () => {
    expect(SESSION_STATES).toEqual(['signedOut', 'signingIn', 'signedIn', 'refreshing', 'degraded', 'expired']);
  });
});

describe('status objects', () => {
  it('accepts the example of the contract', () => {
    const example: unknown = JSON.parse(`{
      "profile": "default", "state": "signedIn", "account": "alice@example.com",
      "issuer": "https://auth.example.com", "expiresAt": "2026-11-27T07:00:00Z", "refreshable": true,
      "message": "Signed in as alice@example.com · renews in 52 min",
      "lastError": {"code": "invalid_grant", "message": "…", "at": "…"},
      "login": {"userCode": "WDJB-MJHT", "verificationUri": "…", "verificationUriComplete": "…", "expiresAt": "…"}
    }`);
    expect(isStatus(example)).toBe(true);
  });

  it('accepts nullable fields as null or absent, and normalizes them to null', () => {
    const minimal = { profile: 'p', state: 'signedOut', message: 'Signed out' };
    expect(isStatus(minimal)).toBe(true);
    expect(normalizeStatus(minimal as Status)).toEqual({
      profile: 'p',
      state: 'signedOut',
      account: null,
      issuer: null,
      expiresAt: null,
      refreshable: false,
      sessionEndsAt: null,
      message: 'Signed out',
      lastError: null,
      login: null,
    });
  });

  it('rejects unknown states and missing messages', () => {
    expect(isStatus({ ...status(), state: 'loggedIn' })).toBe(false);
    expect(isStatus({ profile: 'p', state: 'signedIn' })).toBe(false);
    expect(isStatus(null)).toBe(false);
  });
});

describe('command and request results', () => {
  it('tells a started login from a status reply', () => {
    const started = {
      profile: 'default',
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://a/device',
      verificationUriComplete: 'https://a/device?user_code=WDJB-MJHT',
      expiresIn: 900,
      interval: 5,
    };
    expect(isLoginStarted(started)).toBe(true);
    expect(isLoginStarted(status())).toBe(false);
  });

  it('recognizes a token result', () => {
    expect(isTokenResult({ accessToken: 'x', tokenType: 'Bearer', expiresAt: '2026-11-27T07:00:00Z', scopes: [] })).toBe(true);
    expect(isTokenResult({ tokenType: 'Bearer' })).toBe(false);
  });

  it('reads the protocol version from experimental capabilities', () => {
    expect(announcedProtocolVersion({ tokenwarden: { protocolVersion: 1 } })).toBe(1);
    expect(announcedProtocolVersion({})).toBeUndefined();
    expect(announcedProtocolVersion(undefined)).toBeUndefined();
  });
});

describe('token errors', () => {
  it('maps -32001 to SignInRequiredError with its data', () => {
    const error = tokenErrorFromResponse(-32001, 'sign in', { profile: 'work', state: 'expired' });
    expect(error).toBeInstanceOf(SignInRequiredError);
    expect(error).toMatchObject({ profile: 'work', state: 'expired', code: -32001 });
  });

  it('maps -32002 to TemporarilyUnavailableError with retryAfterSeconds', () => {
    const error = tokenErrorFromResponse(-32002, 'later', { retryAfterSeconds: 12 });
    expect(error).toBeInstanceOf(TemporarilyUnavailableError);
    expect(error).toMatchObject({ retryAfterSeconds: 12, code: -32002 });
  });

  it('defaults retryAfterSeconds when the data lacks it', () => {
    expect(retryAfterSeconds(undefined)).toBe(5);
    expect(retryAfterSeconds({ retryAfterSeconds: 0 })).toBe(5);
  });

  it('leaves other codes alone', () => {
    expect(tokenErrorFromResponse(-32603, 'internal', undefined)).toBeUndefined();
  });
});

describe('browser sign-in', () => {
  it('tells a started browser sign-in from a device code and a status', async () => {
    const { isBrowserLoginStarted, isLoginStarted, isDeviceLogin } = await import('../src/common/protocol.js');
    const browser = { profile: 'p', flow: 'browser', authorizationUri: 'https://idp.example/authorize?x=1', expiresIn: 300 };
    expect(isBrowserLoginStarted(browser)).toBe(true);
    expect(isLoginStarted(browser)).toBe(false);
    expect(isBrowserLoginStarted({ profile: 'p', userCode: 'AB', verificationUri: 'https://idp/device', expiresIn: 1, interval: 5 })).toBe(
      false,
    );
    expect(isDeviceLogin({ flow: 'browser', userCode: null, verificationUri: null, verificationUriComplete: null, expiresAt: null })).toBe(false);
    expect(isDeviceLogin({ userCode: 'AB', verificationUri: 'https://idp/device', verificationUriComplete: null, expiresAt: null })).toBe(true);
  });
});
