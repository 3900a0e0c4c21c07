/**
 * Turns a failed server into a notification the user can act on: what went
 * wrong, what to install, and buttons to open the setting, show the log or retry.
 * Never a silent failure.
 */
import type * as vscode from 'vscode';
import type { Log } from './logging';
import type { ServerState, TokenwardenServer } from './server';
import { openSettings, showErrorMessage } from './vscodeapi';

export const OPEN_SETTINGS = 'Open Settings';
export const SHOW_LOG = 'Show Log';
export const RETRY = 'Retry';

export class ServerProblems implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly server: TokenwardenServer,
    private readonly log: Log & { show(): void },
    private readonly retry: () => Promise<void>,
  ) {
    this.subscription = server.onDidChangeState((state) => {
      if (state.kind === 'failed') {
        this.show(state);
      }
    });
  }

  /** Shows the notification for the current failure (or for "not running" when there is none). */
  showCurrent(): void {
    const state = this.server.state;
    this.show(
      state.kind === 'failed'
        ? state
        : {
            kind: 'failed',
            commandLine: '',
            reason: state.kind === 'starting' ? 'The server is still starting.' : 'The server is not running.',
            hint: 'Check the log, or restart it.',
          },
    );
  }

  private show(state: Extract<ServerState, { kind: 'failed' }>): void {
    void showErrorMessage(`tokenwarden: ${state.reason} ${state.hint}`, OPEN_SETTINGS, SHOW_LOG, RETRY).then(async (choice) => {
      if (choice === OPEN_SETTINGS) {
        await openSettings('tokenwarden.server.command');
      } else if (choice === SHOW_LOG) {
        this.log.show();
      } else if (choice === RETRY) {
        await this.retry();
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
