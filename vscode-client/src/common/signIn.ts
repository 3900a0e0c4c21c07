/**
 * The device-code sign-in as the user sees it: a notification with the code
 * and one button ("Copy code and open browser"), and one progress notification
 * with Cancel: the server's own work-done progress ("Sign in to PROFILE", which
 * vscode-languageclient shows and whose Cancel reaches the server). This side
 * adds no second one; it only waits for the profile's status to leave
 * `signingIn` to report the outcome.
 *
 * The server runs the flow (polling, storing, status events); this only
 * presents it. The browser is opened by the server's `window/showDocument`
 * when it sends one; the button then copies the code without opening a
 * second tab.
 */
import type * as vscode from 'vscode';
import { errorMessage, type Log } from './logging';
import {
  isBrowserLoginStarted,
  isDeviceLogin,
  isLoginStarted,
  isStatus,
  ServerCommands,
  type CancelLoginResult,
  type DeviceLoginInfo,
  type LoginInfo,
  type LoginResult,
  type Status,
} from './protocol';
import type { TokenwardenServer } from './server';
import type { InitializationOptions } from './settings';
import { hasSession } from './sessionModel';
import { failureReason } from './statusPresentation';
import type { StatusStore } from './statusStore';
import {
  isWindowFocused,
  openExternal,
  remoteName,
  setStatusBarMessage,
  showErrorMessage,
  showInformationMessage,
  writeClipboard,
} from './vscodeapi';

export const COPY_AND_OPEN = 'Copy code and open browser';
export const OPEN_AGAIN = 'Open the sign-in page again';
const TRY_AGAIN = 'Try again';
/** Grace after the user code expires before the client stops waiting for the server's verdict. */
const OUTCOME_GRACE_MS = 30_000;
/** Used when a login carries no expiry: RFC 8628 codes typically live 15 minutes. */
const DEFAULT_CODE_LIFETIME_MS = 15 * 60_000;
/** How long before a sign-in is presented its window/showDocument may have arrived. */
const SHOW_DOCUMENT_SLACK_MS = 30_000;

/** The sign-in ended without a session. */
export class SignInFailedError extends Error {
  constructor(
    message: string,
    readonly status: Status | undefined,
  ) {
    super(message);
    this.name = 'SignInFailedError';
  }
}

interface PresentedLogin {
  profile: string;
  login: LoginInfo;
  startedAt: number;
  outcome: Promise<Status | undefined>;
}

export class SignInFlow implements vscode.Disposable {
  /** Logins on screen, by `profile:userCode`. */
  private readonly presented = new Map<string, PresentedLogin>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastExternalOpen: { uri: string; at: number } | undefined;

  constructor(
    private readonly server: TokenwardenServer,
    private readonly store: StatusStore,
    private readonly log: Log,
    private readonly options: () => InitializationOptions,
  ) {
    this.subscriptions.push(
      server.onDidOpenExternal((uri) => {
        this.lastExternalOpen = { uri, at: Date.now() };
      }),
      store.onDidChange((status, previous) => this.onStatus(status, previous)),
    );
  }

  /**
   * Signs `profile` in; resolves with the signed-in status. Rejects with
   * SignInFailedError when the flow ends otherwise (denied, expired, cancelled).
   */
  async signIn(profile: string, force = false): Promise<Status> {
    const result = await this.server.executeCommand<LoginResult>(ServerCommands.login, {
      profile,
      openBrowser: this.options().openBrowser,
      force,
      // In a remote window the loopback redirect would land on the remote host, not
      // where the browser is: sign in with a device code there (docs/signin.md).
      ...(remoteName() !== undefined ? { flow: 'device' } : {}),
    });
    if (isBrowserLoginStarted(result)) {
      const presented = this.present(profile, {
        flow: 'browser',
        userCode: null,
        verificationUri: null,
        verificationUriComplete: null,
        authorizationUri: result.authorizationUri,
        expiresAt: new Date(Date.now() + result.expiresIn * 1000).toISOString(),
      });
      const outcome = await presented.outcome;
      if (outcome !== undefined && hasSession(outcome)) {
        return outcome;
      }
      throw new SignInFailedError(outcomeMessage(outcome), outcome);
    }
    if (!isLoginStarted(result)) {
      if (isStatus(result) && hasSession(result)) {
        return result;
      }
      throw new SignInFailedError(`Sign-in did not start: ${JSON.stringify(result)}`, isStatus(result) ? result : undefined);
    }
    const presented = this.present(profile, {
      userCode: result.userCode,
      verificationUri: result.verificationUri,
      verificationUriComplete: result.verificationUriComplete ?? null,
      expiresAt: new Date(Date.now() + result.expiresIn * 1000).toISOString(),
    });
    const outcome = await presented.outcome;
    if (outcome !== undefined && hasSession(outcome)) {
      return outcome;
    }
    throw new SignInFailedError(outcomeMessage(outcome), outcome);
  }

  /** Copies the code of the profile's running sign-in and opens the browser (no second tab). */
  async copyCodeAndOpenBrowser(profile: string): Promise<void> {
    const login = this.store.get(profile)?.login;
    if (isDeviceLogin(login)) {
      await this.copyAndOpen(login, 0);
    } else if (login?.authorizationUri) {
      await openExternal(login.authorizationUri);
    }
  }

  /** Asks the server to stop polling for the profile's sign-in. */
  async cancel(profile: string): Promise<void> {
    try {
      const result = await this.server.executeCommand<CancelLoginResult>(ServerCommands.cancelLogin, { profile });
      this.log.info(`Sign-in of "${profile}" cancelled: ${String(result.cancelled)}`);
    } catch (error) {
      this.log.error(`Could not cancel the sign-in of "${profile}": ${errorMessage(error)}`);
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }

  /**
   * A sign-in this window did not start (the server's "Sign in" action, or an
   * interactive getToken) is presented too, but only in the focused window:
   * other windows sharing the profile show it in their status bar only.
   */
  private onStatus(status: Status, previous: Status | undefined): void {
    if (status.state !== 'signingIn' || status.login === null) {
      return;
    }
    const isNew = previous?.state !== 'signingIn' || previous.login?.userCode !== status.login.userCode;
    if (isNew && isWindowFocused()) {
      this.present(status.profile, status.login);
    }
  }

  /** Shows the code and the progress once per login; the same login asked twice returns the first. */
  private present(profile: string, login: LoginInfo): PresentedLogin {
    const key = `${profile}:${login.userCode ?? login.authorizationUri ?? 'browser'}`;
    const existing = this.presented.get(key);
    if (existing !== undefined) {
      return existing;
    }
    const startedAt = Date.now();
    // The code first: if VS Code holds back toasts that come in a burst, it keeps the first ones.
    if (isDeviceLogin(login)) {
      this.showCode(login, startedAt);
    } else {
      this.showBrowserWait(profile, login);
    }
    const outcome = this.showProgress(profile, login);
    const presented: PresentedLogin = { profile, login, startedAt, outcome };
    this.presented.set(key, presented);
    void outcome.finally(() => this.presented.delete(key));
    return presented;
  }

  /** A browser sign-in: the server already opened the page; one way back to it, no code. */
  private showBrowserWait(profile: string, login: LoginInfo): void {
    const uri = login.authorizationUri;
    const message = `tokenwarden: finish signing in to ${profile} in your browser; this window follows when you are done.`;
    void showInformationMessage(message, ...(uri ? [OPEN_AGAIN] : [])).then(async (choice) => {
      if (choice === OPEN_AGAIN && uri && this.store.get(profile)?.state === 'signingIn') {
        await openExternal(uri);
      }
    });
  }

  private showCode(login: DeviceLoginInfo, startedAt: number): void {
    const message = `tokenwarden: to sign in, enter the code ${login.userCode} at ${login.verificationUri}`;
    const key = `${login.userCode}`;
    void showInformationMessage(message, COPY_AND_OPEN).then(async (choice) => {
      if (choice !== COPY_AND_OPEN) {
        return;
      }
      // VS Code cannot take a notification back: a click after the flow ended must not send anyone to a dead code.
      if (![...this.presented.values()].some((p) => p.login.userCode === key)) {
        void showInformationMessage(`tokenwarden: the sign-in with code ${login.userCode} has already ended.`);
        return;
      }
      await this.copyAndOpen(login, startedAt);
    });
  }

  private async copyAndOpen(login: DeviceLoginInfo, since: number): Promise<void> {
    await writeClipboard(login.userCode);
    const target = login.verificationUriComplete ?? login.verificationUri;
    if (this.serverOpened(login, since)) {
      // The server's window/showDocument already opened this page.
      void showInformationMessage(`tokenwarden: code ${login.userCode} copied; the sign-in page is already open in your browser.`);
      return;
    }
    await openExternal(target);
  }

  /**
   * Whether the server's window/showDocument already opened this login's page:
   * the complete URI carries the code, so it matches whenever it came; the bare
   * URI only when it came around this sign-in (it may arrive just before the
   * login reply).
   */
  private serverOpened(login: DeviceLoginInfo, since: number): boolean {
    const opened = this.lastExternalOpen;
    if (opened === undefined) {
      return false;
    }
    if (login.verificationUriComplete !== null && opened.uri === login.verificationUriComplete) {
      return true;
    }
    return opened.uri === login.verificationUri && opened.at >= since - SHOW_DOCUMENT_SLACK_MS;
  }

  /** Waits until the status leaves signingIn; resolves with that status (undefined: gave up). */
  private showProgress(profile: string, login: LoginInfo): Promise<Status | undefined> {
    return this.store.waitFor(profile, (status) => status.state !== 'signingIn', { timeoutMs: waitLimitMs(login) }).then(
      (outcome) => {
        this.reportOutcome(profile, outcome);
        return outcome;
      },
      (error: unknown) => {
        this.log.warn(`Stopped waiting for the sign-in of "${profile}": ${errorMessage(error)}`);
        return undefined;
      },
    );
  }

  private reportOutcome(profile: string, outcome: Status): void {
    if (hasSession(outcome)) {
      this.log.info(`Signed in to "${profile}" as ${outcome.account ?? 'unknown account'}.`);
      // The status bar shows the account already; a toast here would only crowd out
      // the notifications that need an answer (VS Code drops toasts that come too fast).
      setStatusBarMessage(`$(pass) tokenwarden: ${outcome.message}`, 8000);
      return;
    }
    this.log.warn(`Sign-in of "${profile}" ended in state ${outcome.state}: ${outcome.lastError?.message ?? outcome.message}`);
    if (outcome.lastError !== null) {
      void showErrorMessage(`tokenwarden: sign-in failed: ${failureReason(outcome.lastError.message)}`, TRY_AGAIN).then((choice) => {
        if (choice === TRY_AGAIN) {
          this.signIn(profile).catch((error: unknown) => this.log.warn(`Sign-in failed: ${errorMessage(error)}`));
        }
      });
    }
  }
}

function waitLimitMs(login: LoginInfo): number {
  const expiresAt = login.expiresAt === null ? Number.NaN : Date.parse(login.expiresAt);
  const codeLifetime = Number.isNaN(expiresAt) ? DEFAULT_CODE_LIFETIME_MS : Math.max(0, expiresAt - Date.now());
  return codeLifetime + OUTCOME_GRACE_MS;
}

function outcomeMessage(outcome: Status | undefined): string {
  if (outcome === undefined) {
    return 'Sign-in was cancelled or timed out.';
  }
  return outcome.lastError?.message ?? `Sign-in ended in state ${outcome.state}.`;
}
