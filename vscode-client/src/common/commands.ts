/**
 * The commands the extension contributes, each a thin handler over the server,
 * the sign-in flow or the authentication API. Errors become messages with a
 * way forward; nothing is thrown at the command palette.
 */
import type * as vscode from 'vscode';
import { AUTH_PROVIDER_ID } from './authProvider';
import { writePrivateFile } from './privateFile';
import { errorMessage } from './logging';
import { isDeviceLogin, ServerCommands, type Status } from './protocol';
import { ServerNotRunningError, type TokenwardenServer } from './server';
import { hasSession } from './sessionModel';
import { SignInFailedError, type SignInFlow } from './signIn';
import { STATUS_MENU_COMMAND } from './statusBar';
import { msUntil } from './statusPresentation';
import type { StatusStore } from './statusStore';
import {
  getAuthenticationSession,
  registerCommand,
  showErrorMessage,
  showInformationMessage,
  showQuickPick,
  showSaveDialog,
  showWarningMessage,
} from './vscodeapi';

export const Commands = {
  signIn: 'tokenwarden.signIn',
  signOut: 'tokenwarden.signOut',
  refresh: 'tokenwarden.refresh',
  showStatus: 'tokenwarden.showStatus',
  showLog: 'tokenwarden.showLog',
  restartServer: 'tokenwarden.restartServer',
  statusMenu: STATUS_MENU_COMMAND,
  getSessionToken: 'tokenwarden.getSessionToken',
} as const;

const SHOW_LOG = 'Show Log';

export interface CommandContext {
  server: TokenwardenServer;
  store: StatusStore;
  signInFlow: SignInFlow;
  log: vscode.LogOutputChannel;
  activeProfile: () => string;
  restartServer: () => Promise<void>;
  /** Shows the actionable "server not running" notification. */
  showServerProblem: () => void;
}

/** What `tokenwarden.getSessionToken` reports; never the token itself. */
export interface SessionTokenReport {
  ok: boolean;
  profile?: string;
  account?: string;
  scopes?: readonly string[];
  expiresAt?: string | null;
  validForSeconds?: number;
  /** How the session was obtained: silently, or after VS Code asked the user to allow access. */
  access?: 'silent' | 'afterConsent';
  message: string;
}

/** Registers every contributed command. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const guarded = (handler: (...args: unknown[]) => Promise<unknown>) => async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      reportCommandError(ctx, error);
      return undefined;
    }
  };
  return [
    registerCommand(Commands.signIn, guarded(() => signIn(ctx))),
    registerCommand(Commands.signOut, guarded(() => signOut(ctx))),
    registerCommand(Commands.refresh, guarded(() => refresh(ctx))),
    registerCommand(Commands.showStatus, guarded(() => showStatus(ctx))),
    registerCommand(Commands.showLog, () => ctx.log.show()),
    registerCommand(Commands.restartServer, guarded(() => ctx.restartServer())),
    registerCommand(Commands.statusMenu, guarded(() => statusMenu(ctx))),
    registerCommand(Commands.getSessionToken, guarded(() => getSessionToken(ctx))),
  ];
}

function reportCommandError(ctx: CommandContext, error: unknown): void {
  if (error instanceof ServerNotRunningError) {
    ctx.showServerProblem();
    return;
  }
  if (error instanceof SignInFailedError) {
    ctx.log.warn(`Sign-in failed: ${error.message}`);
    return; // The flow already told the user (or the user cancelled).
  }
  ctx.log.error(errorMessage(error));
  void showErrorMessage(`tokenwarden: ${errorMessage(error)}`, SHOW_LOG).then((choice) => {
    if (choice === SHOW_LOG) {
      ctx.log.show();
    }
  });
}

const SIGN_IN_AGAIN = 'Sign in again';

async function signIn(ctx: CommandContext): Promise<void> {
  const profile = ctx.activeProfile();
  const current = ctx.store.get(profile);
  if (current !== undefined && hasSession(current)) {
    const choice = await showInformationMessage(`tokenwarden: ${current.message}`, SIGN_IN_AGAIN);
    if (choice === SIGN_IN_AGAIN) {
      await ctx.signInFlow.signIn(profile, true);
    }
    return;
  }
  await ctx.signInFlow.signIn(profile);
}

async function signOut(ctx: CommandContext): Promise<void> {
  const status = await ctx.server.executeCommand<Status>(ServerCommands.logout, { profile: ctx.activeProfile() });
  void showInformationMessage(`tokenwarden: ${status.message}`);
}

async function refresh(ctx: CommandContext): Promise<void> {
  const status = await ctx.server.executeCommand<Status>(ServerCommands.refresh, { profile: ctx.activeProfile() });
  const show = status.state === 'signedIn' ? showInformationMessage : showWarningMessage;
  void show(`tokenwarden: ${status.message}`);
}

async function showStatus(ctx: CommandContext): Promise<void> {
  const status = await ctx.server.status(ctx.activeProfile());
  const details = [status.message];
  if (status.lastError !== null) {
    details.push(`Last error: ${status.lastError.message} (${status.lastError.code})`);
  }
  const server = ctx.server.launchDescription;
  if (server !== undefined) {
    details.push(`Server: ${server}`);
  }
  const choice = await showInformationMessage(`tokenwarden [${status.profile}]: ${details.join(' — ')}`, SHOW_LOG);
  if (choice === SHOW_LOG) {
    ctx.log.show();
  }
}

interface MenuItem extends vscode.QuickPickItem {
  run: () => Promise<unknown> | unknown;
}

async function statusMenu(ctx: CommandContext): Promise<void> {
  const profile = ctx.activeProfile();
  const status = ctx.store.get(profile);
  const items: MenuItem[] = [];
  if (status?.state === 'signingIn') {
    items.push(
      {
        label: isDeviceLogin(status.login) ? '$(copy) Copy code and open browser' : '$(link-external) Open the sign-in page again',
        run: () => ctx.signInFlow.copyCodeAndOpenBrowser(profile),
      },
      { label: '$(close) Cancel sign-in', run: () => ctx.signInFlow.cancel(profile) },
    );
  }
  const signInItem: MenuItem = { label: '$(sign-in) Sign in', run: () => signIn(ctx) };
  const signedIn = hasSession(status);
  if (!signedIn) {
    items.push(signInItem);
  }
  items.push(
    { label: '$(sign-out) Sign out', run: () => signOut(ctx) },
    { label: '$(refresh) Refresh now', run: () => refresh(ctx) },
  );
  if (signedIn) {
    items.push(signInItem);
  }
  items.push(
    { label: '$(info) Show status', run: () => showStatus(ctx) },
    { label: '$(output) Show log', run: () => ctx.log.show() },
  );
  const picked = await showQuickPick(items, { title: `tokenwarden · ${status?.message ?? profile}` });
  await picked?.run();
}

const SAVE_TOKEN = 'Save token to file…';

/**
 * Diagnostic: gets a session through `vscode.authentication.getSession`, the
 * way any other extension would, and reports whether its token is valid. The
 * token never leaves through this command: other extensions get it only from
 * the authentication provider, after VS Code asked the user to allow them; this
 * command writes it only to a file the user picks in a save dialog (mode 0600),
 * whatever arguments its caller passes.
 */
async function getSessionToken(ctx: CommandContext): Promise<SessionTokenReport> {
  let access: SessionTokenReport['access'] = 'silent';
  let session = await getAuthenticationSession(AUTH_PROVIDER_ID, [], { createIfNone: false });
  if (session === undefined && hasSession(ctx.store.get(ctx.activeProfile()))) {
    // VS Code hands a session to an extension only once the user allowed that
    // extension to use the account; createIfNone:false never asks, so ask once.
    access = 'afterConsent';
    session = await getAuthenticationSession(AUTH_PROVIDER_ID, [], { createIfNone: true });
  }
  const report = describeSession(ctx, session, access);
  ctx.log.info(`getSessionToken: ${report.message}`);
  const show = report.ok ? showInformationMessage : showWarningMessage;
  const actions = session !== undefined && report.ok ? [SAVE_TOKEN] : [];
  void show(`tokenwarden: ${report.message}`, ...actions).then(async (choice) => {
    if (choice === SAVE_TOKEN && session !== undefined) {
      await saveTokenToPickedFile(ctx, session.accessToken);
    }
  });
  return report;
}

/** Writes the token to a file the user picks, created 0600 (an existing file is replaced, not reused). */
async function saveTokenToPickedFile(ctx: CommandContext, token: string): Promise<void> {
  const target = await showSaveDialog({ title: 'tokenwarden: save the access token (readable only by you)' });
  if (target === undefined) {
    return;
  }
  await writePrivateFile(target.fsPath, token);
  ctx.log.info(`getSessionToken: token saved to ${target.fsPath} (mode 0600)`);
  void showInformationMessage(`tokenwarden: token saved to ${target.fsPath} (readable only by you).`);
}

function describeSession(
  ctx: CommandContext,
  session: vscode.AuthenticationSession | undefined,
  access: SessionTokenReport['access'],
): SessionTokenReport {
  if (session === undefined) {
    return { ok: false, message: 'no session available through vscode.authentication (signed out, or access not allowed).' };
  }
  const status = ctx.store.get(session.id);
  const left = msUntil(status?.expiresAt ?? null, new Date());
  const validForSeconds = left === undefined ? undefined : Math.floor(left / 1000);
  const ok = session.accessToken !== '' && (validForSeconds === undefined || validForSeconds > 0);
  return {
    ok,
    profile: session.id,
    account: session.account.label,
    scopes: session.scopes,
    expiresAt: status?.expiresAt ?? null,
    validForSeconds,
    access,
    message: `${session.account.label}: token ${ok ? 'valid' : 'NOT valid'}${validForSeconds === undefined ? ' (expiry unknown)' : ` for ${validForSeconds} s`} (${access === 'silent' ? 'silent' : 'after consent'})`,
  };
}
