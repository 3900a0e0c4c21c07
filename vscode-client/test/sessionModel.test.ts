import { describe, expect, it } from 'vitest';
import { accountLabel, classifySessionChange, hasSession, scopesSatisfied } from '../src/common/sessionModel';
import { status } from './fixtures';

describe('classifySessionChange', () => {
  it('sign-in adds a session', () => {
    expect(classifySessionChange(status({ state: 'signingIn' }), status())).toBe('added');
    expect(classifySessionChange(undefined, status())).toBe('added');
  });

  it('sign-out and expiry remove it', () => {
    expect(classifySessionChange(status(), status({ state: 'signedOut' }))).toBe('removed');
    expect(classifySessionChange(status({ state: 'degraded' }), status({ state: 'expired' }))).toBe('removed');
  });

  it('renewal changes it', () => {
    expect(classifySessionChange(status(), status({ expiresAt: '2026-11-27T08:00:00Z' }))).toBe('changed');
  });

  it('a state change that keeps the same token is no session change', () => {
    expect(classifySessionChange(status(), status({ state: 'refreshing' }))).toBeUndefined();
    expect(classifySessionChange(status({ state: 'signedOut' }), status({ state: 'signingIn' }))).toBeUndefined();
  });
});

describe('sessions', () => {
  it('exist while a token is usable', () => {
    expect(['signedIn', 'refreshing', 'degraded'].every((state) => hasSession(status({ state: state as never })))).toBe(true);
    expect(['signedOut', 'signingIn', 'expired'].some((state) => hasSession(status({ state: state as never })))).toBe(false);
  });

  it('are labelled by account and profile', () => {
    expect(accountLabel('work', 'alice@example.com')).toBe('alice@example.com (work)');
    expect(accountLabel('work', null)).toBe('work');
  });

  it('serve requests whose scopes they hold', () => {
    expect(scopesSatisfied([], ['openid'])).toBe(true);
    expect(scopesSatisfied(['openid'], ['openid', 'api'])).toBe(true);
    expect(scopesSatisfied(['admin'], ['openid'])).toBe(false);
  });
});
