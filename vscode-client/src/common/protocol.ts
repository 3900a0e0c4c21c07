/**
 * The tokenwarden LSP contract, version 1, as the client sees it.
 *
 * Mirrors docs/protocol.md (the reference of the contract) and the server's
 * `lsp/protocol.py`: every custom method name, command name, payload type and
 * error code lives here and nowhere else. Pure TypeScript (no `vscode` import)
 * so that it unit-tests without an editor.
 */

/** The protocol version this client speaks (`experimental.tokenwarden.protocolVersion`). */
export const PROTOCOL_VERSION = 1;

/** Custom LSP methods (requests and notifications). */
export const Methods = {
  /** client → server request: a valid access token. */
  getToken: 'tokenwarden/getToken',
  /** client → server request: a consumer got 401 with this token. */
  tokenRejected: 'tokenwarden/tokenRejected',
  /** server → client notification: a status object. */
  didChangeStatus: 'tokenwarden/didChangeStatus',
} as const;

/** Server commands, run with `workspace/executeCommand` and one optional object argument. */
export const ServerCommands = {
  login: 'tokenwarden.login',
  cancelLogin: 'tokenwarden.cancelLogin',
  logout: 'tokenwarden.logout',
  refresh: 'tokenwarden.refresh',
  status: 'tokenwarden.status',
} as const;
export type ServerCommand = (typeof ServerCommands)[keyof typeof ServerCommands];

/** JSON-RPC error codes of `getToken` / `tokenRejected`. */
export const ErrorCodes = {
  SignInRequired: -32001,
  TemporarilyUnavailable: -32002,
} as const;

export const SESSION_STATES = ['signedOut', 'signingIn', 'signedIn', 'refreshing', 'degraded', 'expired'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** The last renewal or sign-in failure. */
export interface LastError {
  code: string;
  message: string;
  /** RFC 3339 UTC. */
  at: string;
}

/** The two ways to sign in: a device code, or the browser with a loopback redirect. */
export type SignInFlowKind = 'device' | 'browser';

/** A sign-in in progress (status `signingIn`), in this or another process sharing the store. */
export interface LoginInfo {
  /** Absent from servers older than the browser flow: then `device`. */
  flow?: SignInFlowKind;
  /** The device code's fields; null for a browser sign-in. */
  userCode: string | null;
  verificationUri: string | null;
  verificationUriComplete: string | null;
  /** The page the browser was sent to (browser sign-in), else null or absent. */
  authorizationUri?: string | null;
  /** RFC 3339 UTC: when the user code (or the wait for the browser) expires. */
  expiresAt: string | null;
}

/** A device-code sign-in in progress: the code and where to enter it. */
export interface DeviceLoginInfo extends LoginInfo {
  userCode: string;
  verificationUri: string;
}

/** True for a device-code sign-in (the user code is set). */
export function isDeviceLogin(login: LoginInfo | null | undefined): login is DeviceLoginInfo {
  return login !== null && login !== undefined && typeof login.userCode === 'string' && typeof login.verificationUri === 'string';
}

/** The status object carried by every status-bearing reply and notification. */
export interface Status {
  profile: string;
  state: SessionState;
  account: string | null;
  issuer: string | null;
  /** RFC 3339 UTC: when the access token expires. */
  expiresAt: string | null;
  refreshable: boolean;
  /** When the session ends unless the user signs in again (null while it renews silently). */
  sessionEndsAt: string | null;
  /** One short human line, showable as it is. */
  message: string;
  lastError: LastError | null;
  login: LoginInfo | null;
}

/** Arguments of `tokenwarden.login`. */
export interface LoginParams {
  profile?: string;
  openBrowser?: boolean;
  force?: boolean;
  /** Overrides the profile's `flow` (`auto`: the server picks). */
  flow?: SignInFlowKind | 'auto';
}

/** Result of `tokenwarden.login` when a device-code flow was started. */
export interface LoginStarted {
  profile: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  /** Seconds until the user code expires. */
  expiresIn: number;
  /** Polling interval in seconds. */
  interval: number;
}

/** Result of `tokenwarden.login` when a browser sign-in was started (or joined). */
export interface BrowserLoginStarted {
  profile: string;
  flow: 'browser';
  /** The provider's sign-in page; the server has already asked the client to open it. */
  authorizationUri: string;
  /** Seconds until the server stops waiting for the browser. */
  expiresIn: number;
  /** True when this joined a sign-in already running (no second tab should open). */
  joined?: boolean;
}

/** `tokenwarden.login` returns the status object when already signed in and not forced. */
export type LoginResult = LoginStarted | BrowserLoginStarted | Status;

export interface CancelLoginParams {
  profile?: string;
}
export interface CancelLoginResult {
  cancelled: boolean;
}

export interface LogoutParams {
  profile?: string;
  /** Revoke the refresh token at the provider (default true). */
  revoke?: boolean;
}

export interface ProfileParams {
  profile?: string;
}

/** Parameters of `tokenwarden/getToken`. */
export interface GetTokenParams {
  profile?: string;
  /** Default 60. */
  minValiditySeconds?: number;
  /** Default false: with true the server runs the sign-in flow itself and answers once it completes. */
  interactive?: boolean;
}

/** Parameters of `tokenwarden/tokenRejected`. */
export interface TokenRejectedParams {
  profile?: string;
  accessToken: string;
}

/** Result of `getToken` and `tokenRejected`. */
export interface TokenResult {
  accessToken: string;
  tokenType: string;
  /** RFC 3339 UTC. */
  expiresAt: string;
  scopes: string[];
}

/** `data` of a `-32001 SignInRequired` error. */
export interface SignInRequiredData {
  profile: string;
  state: SessionState;
}

/** `data` of a `-32002 TemporarilyUnavailable` error. */
export interface TemporarilyUnavailableData {
  retryAfterSeconds: number;
}

/** `experimental.tokenwarden` of the server capabilities. */
export interface ExperimentalCapability {
  protocolVersion: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** True when `value` is one of the six session states. */
export function isSessionState(value: unknown): value is SessionState {
  return typeof value === 'string' && (SESSION_STATES as readonly string[]).includes(value);
}

/** True when `value` has the shape of a status object (optional fields may be absent or null). */
export function isStatus(value: unknown): value is Status {
  return (
    isObject(value) &&
    typeof value.profile === 'string' &&
    isSessionState(value.state) &&
    typeof value.message === 'string' &&
    (value.account === undefined || isNullableString(value.account)) &&
    (value.expiresAt === undefined || isNullableString(value.expiresAt))
  );
}

/** Normalizes a status object: absent nullable fields become null, so renderers see one shape. */
export function normalizeStatus(value: Status): Status {
  return {
    profile: value.profile,
    state: value.state,
    account: value.account ?? null,
    issuer: value.issuer ?? null,
    expiresAt: value.expiresAt ?? null,
    refreshable: value.refreshable ?? false,
    sessionEndsAt: typeof value.sessionEndsAt === 'string' ? value.sessionEndsAt : null,
    message: value.message,
    lastError: isObject(value.lastError) ? (value.lastError as LastError) : null,
    login: isObject(value.login) ? (value.login as LoginInfo) : null,
  };
}

/** True when a `tokenwarden.login` result says a device-code flow started. */
/** True when `value` is a started (or joined) browser sign-in. */
export function isBrowserLoginStarted(value: unknown): value is BrowserLoginStarted {
  return isObject(value) && value.flow === 'browser' && typeof value.authorizationUri === 'string';
}

export function isLoginStarted(value: unknown): value is LoginStarted {
  return isObject(value) && typeof value.userCode === 'string' && typeof value.verificationUri === 'string';
}

/** True when `value` is a `getToken` / `tokenRejected` result. */
export function isTokenResult(value: unknown): value is TokenResult {
  return isObject(value) && typeof value.accessToken === 'string' && typeof value.expiresAt === 'string';
}

/** The protocol version a server announced in its capabilities, or undefined. */
export function announcedProtocolVersion(experimental: unknown): number | undefined {
  if (!isObject(experimental) || !isObject(experimental.tokenwarden)) {
    return undefined;
  }
  const version = experimental.tokenwarden.protocolVersion;
  return typeof version === 'number' ? version : undefined;
}

/** Seconds to wait from a `-32002` error's data (at least 1, default 5). */
export function retryAfterSeconds(data: unknown): number {
  if (isObject(data) && typeof data.retryAfterSeconds === 'number' && data.retryAfterSeconds > 0) {
    return data.retryAfterSeconds;
  }
  return 5;
}

/** `-32001`: no usable session; the user has to sign in. */
export class SignInRequiredError extends Error {
  readonly code = ErrorCodes.SignInRequired;
  constructor(
    message: string,
    readonly profile: string | undefined,
    readonly state: SessionState | undefined,
  ) {
    super(message);
    this.name = 'SignInRequiredError';
  }
}

/** `-32002`: the provider cannot be reached right now; try again later. */
export class TemporarilyUnavailableError extends Error {
  readonly code = ErrorCodes.TemporarilyUnavailable;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'TemporarilyUnavailableError';
  }
}

/** The typed error for a JSON-RPC error of `getToken` / `tokenRejected`, or undefined for other codes. */
export function tokenErrorFromResponse(
  code: number,
  message: string,
  data: unknown,
): SignInRequiredError | TemporarilyUnavailableError | undefined {
  if (code === ErrorCodes.SignInRequired) {
    const profile = isObject(data) && typeof data.profile === 'string' ? data.profile : undefined;
    const state = isObject(data) && isSessionState(data.state) ? data.state : undefined;
    return new SignInRequiredError(message, profile, state);
  }
  if (code === ErrorCodes.TemporarilyUnavailable) {
    return new TemporarilyUnavailableError(message, retryAfterSeconds(data));
  }
  return undefined;
}
