/**
 * The `tokenwarden` authentication provider: other extensions call
 * `vscode.authentication.getSession('tokenwarden', scopes)` and get a token
 * that the server keeps fresh. Each profile is one account; the access token
 * is fetched anew (`tokenwarden/getToken`) on every getSessions call, so a
 * consumer never holds a token the server already replaced.
 */
import type * as vscode from 'vscode';
import { errorMessage, type Log } from './logging';
import { ServerCommands, SignInRequiredError, TemporarilyUnavailableError, type Status, type TokenResult } from './protocol';
import type { TokenwardenServer } from './server';
import { accountLabel, classifySessionChange, hasSession, scopesSatisfied } from './sessionModel';
import { knownProfiles, profileForScopes, type InitializationOptions } from './settings';
import type { SignInFlow } from './signIn';
import type { StatusStore } from './statusStore';
import { createEventEmitter } from './vscodeapi';

export const AUTH_PROVIDER_ID = 'tokenwarden';
export const AUTH_PROVIDER_LABEL = 'tokenwarden';

type SessionsChangeEvent = vscode.AuthenticationProviderAuthenticationSessionsChangeEvent;

export class TokenwardenAuthenticationProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changeEmitter = createEventEmitter<SessionsChangeEvent>();
  /** The last session handed out per profile: what a "removed" event names. */
  private readonly lastSessions = new Map<string, vscode.AuthenticationSession>();
  private readonly subscriptions: vscode.Disposable[] = [];

  readonly onDidChangeSessions = this.changeEmitter.event;

  constructor(
    private readonly server: TokenwardenServer,
    private readonly store: StatusStore,
    private readonly signInFlow: SignInFlow,
    private readonly options: () => InitializationOptions,
    private readonly log: Log,
  ) {
    this.subscriptions.push(store.onDidChange((status, previous) => void this.onStatus(status, previous)));
  }

  /** One session per signed-in profile whose scopes cover `scopes`, each with a fresh token. */
  async getSessions(scopes?: readonly string[]): Promise<vscode.AuthenticationSession[]> {
    if (this.server.state.kind !== 'running') {
      return [];
    }
    const sessions: vscode.AuthenticationSession[] = [];
    for (const profile of knownProfiles(this.options())) {
      const session = await this.sessionFor(profile);
      if (session !== undefined && scopesSatisfied(scopes ?? [], session.scopes)) {
        sessions.push(session);
      }
    }
    return sessions;
  }

  /** Signs in the profile that serves `scopes` and resolves once it is signed in. */
  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const profile = profileForScopes(this.options(), scopes);
    this.log.info(`Session requested for profile "${profile}" (scopes: ${scopes.join(' ') || 'any'}).`);
    const status = await this.signInFlow.signIn(profile);
    const session = await this.sessionFor(profile, status);
    if (session === undefined) {
      throw new Error(`tokenwarden: signed in to "${profile}" but no token could be had; see the log.`);
    }
    return session;
  }

  /** Signs the session's profile out (the refresh token is revoked when the provider supports it). */
  async removeSession(sessionId: string): Promise<void> {
    const profile = sessionId;
    await this.server.executeCommand<Status>(ServerCommands.logout, { profile });
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.changeEmitter.dispose();
  }

  private async sessionFor(profile: string, known?: Status): Promise<vscode.AuthenticationSession | undefined> {
    const status = known ?? this.store.get(profile) ?? (await this.fetchStatus(profile));
    if (!hasSession(status) || status === undefined) {
      return undefined;
    }
    const token = await this.fetchToken(profile);
    if (token === undefined) {
      return undefined;
    }
    const session = toSession(profile, status, token);
    this.lastSessions.set(profile, session);
    return session;
  }

  private async fetchStatus(profile: string): Promise<Status | undefined> {
    try {
      return await this.server.status(profile);
    } catch (error) {
      this.log.warn(`Could not read the status of "${profile}": ${errorMessage(error)}`);
      return undefined;
    }
  }

  private async fetchToken(profile: string): Promise<TokenResult | undefined> {
    try {
      return await this.server.getToken({ profile });
    } catch (error) {
      if (error instanceof SignInRequiredError) {
        this.log.info(`No session for "${profile}": sign-in required (${error.state ?? 'unknown state'}).`);
      } else if (error instanceof TemporarilyUnavailableError) {
        this.log.warn(`Token for "${profile}" temporarily unavailable; retry in ${error.retryAfterSeconds} s.`);
      } else {
        this.log.error(`getToken for "${profile}" failed: ${errorMessage(error)}`);
      }
      return undefined;
    }
  }

  /** Sign-in, sign-out and renewal become onDidChangeSessions events. */
  private async onStatus(status: Status, previous: Status | undefined): Promise<void> {
    if (!knownProfiles(this.options()).includes(status.profile)) {
      return;
    }
    const change = classifySessionChange(previous, status);
    if (change === undefined) {
      return;
    }
    if (change === 'removed') {
      const last = this.lastSessions.get(status.profile) ?? placeholderSession(status);
      this.lastSessions.delete(status.profile);
      this.changeEmitter.fire({ added: [], removed: [last], changed: [] });
      return;
    }
    const session = await this.sessionFor(status.profile, status);
    if (session !== undefined) {
      this.changeEmitter.fire(
        change === 'added' ? { added: [session], removed: [], changed: [] } : { added: [], removed: [], changed: [session] },
      );
    }
  }
}

function toSession(profile: string, status: Status, token: TokenResult): vscode.AuthenticationSession {
  return {
    id: profile,
    accessToken: token.accessToken,
    account: { id: profile, label: accountLabel(profile, status.account) },
    scopes: token.scopes,
  };
}

/** A session that is gone still needs a shape for the "removed" event; it carries no token. */
function placeholderSession(status: Status): vscode.AuthenticationSession {
  return {
    id: status.profile,
    accessToken: '',
    account: { id: status.profile, label: accountLabel(status.profile, status.account) },
    scopes: [],
  };
}
