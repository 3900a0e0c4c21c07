/**
 * The status bar item: renders status events of the active profile, and the
 * server's own phase when no status can be had. Computes nothing about tokens
 * except the countdown to `expiresAt`, re-rendered locally (no server polling).
 */
import type * as vscode from 'vscode';
import type { TokenwardenServer } from './server';
import { nextRefreshDelayMs, renderItem } from './statusPresentation';
import type { StatusStore } from './statusStore';
import { createStatusBarItem, themeColor } from './vscodeapi';

export const STATUS_MENU_COMMAND = 'tokenwarden.statusMenu';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StatusStore,
    private readonly server: TokenwardenServer,
    private readonly activeProfile: () => string,
    private readonly warnBeforeSeconds: () => number = () => 300,
  ) {
    this.item = createStatusBarItem('tokenwarden.status', 'tokenwarden', 100);
    this.item.command = STATUS_MENU_COMMAND;
    this.subscriptions.push(
      store.onDidChange((status) => {
        if (status.profile === this.activeProfile()) {
          this.render();
        }
      }),
      server.onDidChangeState(() => this.render()),
    );
    this.render();
    this.item.show();
  }

  /** Re-renders now (also after the active profile changed). */
  render(): void {
    const status = this.store.get(this.activeProfile());
    const now = new Date();
    const view = renderItem(this.server.state, status, now, this.warnBeforeSeconds() * 1000);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.background === undefined ? undefined : themeColor(view.background);
    this.scheduleNextRender(nextRefreshDelayMs(status, now));
  }

  private scheduleNextRender(delayMs: number | undefined): void {
    clearTimeout(this.timer);
    this.timer = delayMs === undefined ? undefined : setTimeout(() => this.render(), delayMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.item.dispose();
  }
}
