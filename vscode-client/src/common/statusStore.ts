/**
 * The latest status object per profile, as the server reported it.
 *
 * The server is the one owner of token state; this only remembers the last
 * event so that views can render it and flows can wait for the next one.
 * No `vscode` import: unit-testable.
 */
import type { Status } from './protocol';

export type StatusListener = (status: Status, previous: Status | undefined) => void;

export interface Disposable {
  dispose(): void;
}

/** Raised by `waitFor` when it times out or is cancelled. */
export class WaitAbortedError extends Error {
  constructor(readonly reason: 'timeout' | 'cancelled' | 'closed') {
    super(`stopped waiting for a status change (${reason})`);
    this.name = 'WaitAbortedError';
  }
}

export class StatusStore {
  private readonly statuses = new Map<string, Status>();
  private readonly listeners = new Set<StatusListener>();
  private readonly pendingWaits = new Set<(error: WaitAbortedError) => void>();

  /** The last status of `profile`, if any arrived. */
  get(profile: string): Status | undefined {
    return this.statuses.get(profile);
  }

  /** Records a status event and tells the listeners. */
  update(status: Status): void {
    const previous = this.statuses.get(status.profile);
    this.statuses.set(status.profile, status);
    for (const listener of [...this.listeners]) {
      listener(status, previous);
    }
  }

  /** Forgets everything (the server went away: its statuses are stale). */
  clear(): void {
    this.statuses.clear();
    for (const abort of [...this.pendingWaits]) {
      abort(new WaitAbortedError('closed'));
    }
  }

  /** Calls `listener` on every status event. */
  onDidChange(listener: StatusListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /**
   * Resolves with the first *future* status event of `profile` that satisfies
   * `predicate`; rejects with WaitAbortedError on timeout, cancel or clear().
   */
  waitFor(
    profile: string,
    predicate: (status: Status) => boolean,
    options: { timeoutMs: number; onCancel?: (cancel: () => void) => void },
  ): Promise<Status> {
    return new Promise<Status>((resolve, reject) => {
      let finished = false;
      const finish = (): void => {
        finished = true;
        clearTimeout(timer);
        subscription.dispose();
        this.pendingWaits.delete(abort);
      };
      const abort = (error: WaitAbortedError): void => {
        if (!finished) {
          finish();
          reject(error);
        }
      };
      const subscription = this.onDidChange((status) => {
        if (!finished && status.profile === profile && predicate(status)) {
          finish();
          resolve(status);
        }
      });
      const timer = setTimeout(() => abort(new WaitAbortedError('timeout')), options.timeoutMs);
      this.pendingWaits.add(abort);
      options.onCancel?.(() => abort(new WaitAbortedError('cancelled')));
    });
  }
}
