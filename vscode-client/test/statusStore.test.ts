import { afterEach, describe, expect, it, vi } from 'vitest';
import { StatusStore, WaitAbortedError } from '../src/common/statusStore';
import { status } from './fixtures';

afterEach(() => {
  vi.useRealTimers();
});

describe('StatusStore', () => {
  it('remembers the last status per profile and tells listeners the previous one', () => {
    const store = new StatusStore();
    const seen: [string, string | undefined][] = [];
    store.onDidChange((next, previous) => seen.push([next.state, previous?.state]));
    store.update(status({ state: 'signingIn' }));
    store.update(status({ state: 'signedIn' }));
    store.update(status({ profile: 'other', state: 'signedOut' }));
    expect(store.get('default')?.state).toBe('signedIn');
    expect(store.get('other')?.state).toBe('signedOut');
    expect(seen).toEqual([
      ['signingIn', undefined],
      ['signedIn', 'signingIn'],
      ['signedOut', undefined],
    ]);
  });

  it('waitFor resolves on a future matching event of the same profile only', async () => {
    const store = new StatusStore();
    store.update(status({ state: 'signedOut' }));
    const waiting = store.waitFor('default', (s) => s.state !== 'signingIn', { timeoutMs: 1000 });
    store.update(status({ profile: 'other', state: 'signedIn' }));
    store.update(status({ state: 'signingIn' }));
    store.update(status({ state: 'signedIn' }));
    await expect(waiting).resolves.toMatchObject({ profile: 'default', state: 'signedIn' });
  });

  it('waitFor gives up after its timeout', async () => {
    vi.useFakeTimers();
    const store = new StatusStore();
    const waiting = store.waitFor('default', () => true, { timeoutMs: 50 });
    vi.advanceTimersByTime(51);
    await expect(waiting).rejects.toEqual(new WaitAbortedError('timeout'));
  });

  it('waitFor can be cancelled', async () => {
    const store = new StatusStore();
    let cancel: () => void = () => undefined;
    const waiting = store.waitFor('default', () => true, { timeoutMs: 1000, onCancel: (c) => (cancel = c) });
    cancel();
    await expect(waiting).rejects.toMatchObject({ reason: 'cancelled' });
  });

  it('clear forgets statuses and ends pending waits', async () => {
    const store = new StatusStore();
    store.update(status());
    const waiting = store.waitFor('default', () => true, { timeoutMs: 1000 });
    store.clear();
    expect(store.get('default')).toBeUndefined();
    await expect(waiting).rejects.toMatchObject({ reason: 'closed' });
  });
});
