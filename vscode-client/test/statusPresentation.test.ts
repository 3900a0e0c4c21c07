import { describe, expect, it } from 'vitest';
import {
  failureReason,
  formatTimeLeft,
  nextRefreshDelayMs,
  renderItem,
  renderStatus,
} from '../src/common/statusPresentation';
import { NOW, status } from './fixtures';

const in52min = new Date(NOW.getTime() + 52 * 60_000 + 30_000).toISOString();

describe('renderStatus', () => {
  it('signedOut offers sign-in, no colour', () => {
    const view = renderStatus(status({ state: 'signedOut', account: null, expiresAt: null, message: 'Signed out' }), NOW);
    expect(view.text).toBe('$(account) tokenwarden: Sign in');
    expect(view.background).toBeUndefined();
    expect(view.tooltip).toContain('Signed out');
  });

  it('signingIn spins and shows the user code', () => {
    const view = renderStatus(
      status({
        state: 'signingIn',
        account: null,
        expiresAt: null,
        message: 'Enter WDJB-MJHT',
        login: { userCode: 'WDJB-MJHT', verificationUri: 'https://auth.example.com/device', verificationUriComplete: null, expiresAt: null },
      }),
      NOW,
    );
    expect(view.text).toBe('$(sync~spin) tokenwarden: WDJB-MJHT');
    expect(view.tooltip).toContain('Enter code WDJB-MJHT at https://auth.example.com/device');
    expect(view.background).toBeUndefined();
  });

  it('signedIn shows the account and the time left, computed from expiresAt', () => {
    const view = renderStatus(status({ expiresAt: in52min }), NOW);
    expect(view.text).toBe('$(pass) alice@example.com · 52m');
    expect(view.background).toBeUndefined();
    expect(view.tooltip).toContain(`Token expires at ${in52min} (52m)`);
    expect(view.tooltip).toContain('Issuer: https://auth.example.com');
  });

  it('signedIn counts down without a new event', () => {
    const s = status({ expiresAt: in52min });
    const later = new Date(NOW.getTime() + 50 * 60_000);
    expect(renderStatus(s, later).text).toBe('$(pass) alice@example.com · 2m');
    expect(renderStatus(s, new Date(NOW.getTime() + 52 * 60_000)).text).toBe('$(pass) alice@example.com · 30s');
  });

  it('signedIn falls back to the profile when the account is unknown', () => {
    expect(renderStatus(status({ account: null, expiresAt: null }), NOW).text).toBe('$(pass) default');
  });

  it('refreshing spins', () => {
    expect(renderStatus(status({ state: 'refreshing' }), NOW).text).toBe('$(sync~spin) alice@example.com · renewing');
  });

  it('degraded has the warning background and the last error in the tooltip', () => {
    const view = renderStatus(
      status({
        state: 'degraded',
        expiresAt: in52min,
        lastError: { code: 'temporarily_unavailable', message: 'token endpoint answered 503', at: '2026-11-27T05:59:00Z' },
      }),
      NOW,
    );
    expect(view.text).toBe('$(warning) alice@example.com · 52m');
    expect(view.background).toBe('statusBarItem.warningBackground');
    expect(view.tooltip).toContain('Last error: token endpoint answered 503 (temporarily_unavailable, 2026-11-27T05:59:00Z)');
  });

  it('expired has the error background', () => {
    const view = renderStatus(
      status({ state: 'expired', lastError: { code: 'invalid_grant', message: 'refresh token revoked', at: 'x' } }),
      NOW,
    );
    expect(view.text).toBe('$(error) tokenwarden: session expired');
    expect(view.background).toBe('statusBarItem.errorBackground');
    expect(view.tooltip).toContain('refresh token revoked');
    expect(view.tooltip).not.toContain('Token expires at');
  });

  it('every tooltip starts with the profile and carries the server message', () => {
    for (const state of ['signedOut', 'signingIn', 'signedIn', 'refreshing', 'degraded', 'expired'] as const) {
      const tooltip = renderStatus(status({ state, message: `msg-${state}` }), NOW).tooltip;
      expect(tooltip.split('\n')[0]).toBe('tokenwarden · profile "default"');
      expect(tooltip).toContain(`msg-${state}`);
    }
  });
});

describe('renderItem', () => {
  it('shows a failed server with the error background and the reason', () => {
    const view = renderItem({ kind: 'failed', reason: '"tokenwarden" was not found on PATH.' }, undefined, NOW);
    expect(view.text).toContain('server not running');
    expect(view.background).toBe('statusBarItem.errorBackground');
    expect(view.tooltip).toContain('not found on PATH');
  });

  it('shows starting until the first status arrives', () => {
    expect(renderItem({ kind: 'running' }, undefined, NOW).text).toBe('$(loading~spin) tokenwarden');
    expect(renderItem({ kind: 'running' }, status({ expiresAt: in52min }), NOW).text).toContain('alice@example.com');
  });
});

describe('formatTimeLeft', () => {
  it.each([
    [0, 'expired'],
    [-5, 'expired'],
    [999, '1s'],
    [45_000, '45s'],
    [60_000, '1m'],
    [52 * 60_000 + 59_000, '52m'],
    [80 * 60_000, '1h 20m'],
    [51 * 3600_000, '2d 3h'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatTimeLeft(ms)).toBe(text);
  });
});

describe('nextRefreshDelayMs', () => {
  it('ticks when the displayed minute changes', () => {
    const delay = nextRefreshDelayMs(status({ expiresAt: in52min }), NOW);
    expect(delay).toBe(30_050);
  });

  it('ticks each second in the last minute', () => {
    const soon = new Date(NOW.getTime() + 20_000).toISOString();
    expect(nextRefreshDelayMs(status({ expiresAt: soon }), NOW)).toBe(1000);
  });

  it('does not tick without a countdown', () => {
    expect(nextRefreshDelayMs(undefined, NOW)).toBeUndefined();
    expect(nextRefreshDelayMs(status({ state: 'signedOut', expiresAt: null }), NOW)).toBeUndefined();
    expect(nextRefreshDelayMs(status({ expiresAt: '2026-11-27T05:00:00Z' }), NOW)).toBeUndefined();
  });
});

describe('failureReason', () => {
  it('says "sign-in failed" once, however the server worded it', () => {
    expect(failureReason('sign-in failed: the provider refused the request (invalid_client)')).toBe(
      'the provider refused the request (invalid_client)',
    );
    expect(failureReason('the sign-in was denied')).toBe('the sign-in was denied');
  });
});

describe('a session that cannot be renewed silently', () => {
  it('stays in the status bar as a warning until the user signs in', () => {
    const view = renderStatus(status({ refreshable: false, expiresAt: '2026-11-27T06:04:00Z' }), NOW);
    expect(view.background).toBe('statusBarItem.warningBackground');
    expect(view.text).toMatch(/^\$\(warning\) alice@example\.com · /);
    expect(view.tooltip).toContain('cannot be renewed silently: sign in again');
  });

  it('also when the refresh token itself ends within the warning window', () => {
    const ending = status({ sessionEndsAt: '2026-11-27T06:00:10Z', expiresAt: '2026-11-27T06:00:30Z' });
    expect(renderStatus(ending, NOW, 12_000).background).toBe('statusBarItem.warningBackground');
    expect(renderStatus(ending, new Date('2026-11-27T05:59:00Z'), 12_000).background).toBeUndefined();
  });

  it('not before the warning window', () => {
    const view = renderStatus(status({ refreshable: false, expiresAt: '2026-11-27T06:06:00Z' }), NOW);
    expect(view.background).toBeUndefined();
  });

  it('(the old form)', () => {
    const view = renderStatus(status({ refreshable: false, expiresAt: '2026-11-27T06:04:00Z' }), NOW);
    expect(view.background).toBe('statusBarItem.warningBackground');
    expect(view.text).toMatch(/^\$\(warning\) alice@example\.com · /);
    expect(view.tooltip).toContain('cannot be renewed silently: sign in again');
  });

  it('a renewable session or one without expiry is not a warning', () => {
    expect(renderStatus(status(), NOW).background).toBeUndefined();
    expect(renderStatus(status({ refreshable: false, expiresAt: null }), NOW).background).toBeUndefined();
  });
});

describe('a browser sign-in in progress', () => {
  it('shows no code, and names the host in the tooltip', () => {
    const login = {
      flow: 'browser' as const,
      userCode: null,
      verificationUri: null,
      verificationUriComplete: null,
      authorizationUri: 'https://login.example.com/authorize?client_id=c',
      expiresAt: null,
    };
    const view = renderStatus(status({ state: 'signingIn', login }), NOW);
    expect(view.text).toBe('$(sync~spin) tokenwarden: signing in');
    expect(view.tooltip).toContain('Finish signing in in the browser (login.example.com)');
  });
});
