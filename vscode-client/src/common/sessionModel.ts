/**
 * What a profile's status means for VS Code authentication sessions: whether
 * there is one, how it is labelled, which scopes it serves, and how a status
 * event changes it. Pure: unit-testable without VS Code.
 */
import type { Status } from './protocol';

/** States in which the profile holds a usable access token. */
export function hasSession(status: Status | undefined): boolean {
  return status !== undefined && (status.state === 'signedIn' || status.state === 'refreshing' || status.state === 'degraded');
}

export type SessionChange = 'added' | 'removed' | 'changed';

/**
 * How a status event changes the profile's authentication session:
 * added on sign-in, removed on sign-out or expiry, changed on renewal
 * (a new `expiresAt`) or when the account changes.
 */
export function classifySessionChange(previous: Status | undefined, next: Status): SessionChange | undefined {
  const had = hasSession(previous);
  const has = hasSession(next);
  if (!had && has) {
    return 'added';
  }
  if (had && !has) {
    return 'removed';
  }
  if (had && has && (previous?.expiresAt !== next.expiresAt || previous?.account !== next.account)) {
    return 'changed';
  }
  return undefined;
}

/** The account label VS Code shows (and keys access permissions by): the account and its profile. */
export function accountLabel(profile: string, account: string | null): string {
  return account === null || account === '' ? profile : `${account} (${profile})`;
}

/** True when a session holding `granted` scopes serves a request for `requested` (empty: any). */
export function scopesSatisfied(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((scope) => granted.includes(scope));
}
