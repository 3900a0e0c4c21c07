import type { Status } from '../src/common/protocol';

/** A status object as the server sends it, with overrides. */
export function status(overrides: Partial<Status> = {}): Status {
  return {
    profile: 'default',
    state: 'signedIn',
    account: 'alice@example.com',
    issuer: 'https://auth.example.com',
    expiresAt: '2026-11-27T07:00:00Z',
    refreshable: true,
    sessionEndsAt: null,
    message: 'Signed in as alice@example.com · renews in 52 min',
    lastError: null,
    login: null,
    ...overrides,
  };
}

export const NOW = new Date('2026-11-27T06:00:00Z');
