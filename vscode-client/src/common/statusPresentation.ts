/**
 * How a status object looks in the status bar: text, tooltip, colour.
 *
 * Pure functions of (status, now): the server owns the token state, this only
 * renders it. Time left is the one thing computed here, from `expiresAt`,
 * so the item can count down locally without asking the server.
 */
import { isDeviceLogin, type Status } from './protocol';

/** Theme colour ids of the status bar backgrounds VS Code allows. */
export type StatusBackground = 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';

export interface StatusView {
  text: string;
  tooltip: string;
  background: StatusBackground | undefined;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds until `expiresAt`, or undefined when unknown or unparsable. */
export function msUntil(expiresAt: string | null, now: Date): number | undefined {
  if (expiresAt === null) {
    return undefined;
  }
  const at = Date.parse(expiresAt);
  return Number.isNaN(at) ? undefined : at - now.getTime();
}

/** Compact time left: "2d 3h", "1h 20m", "52m", "45s", "expired". */
export function formatTimeLeft(ms: number): string {
  if (ms <= 0) {
    return 'expired';
  }
  if (ms >= DAY) {
    return `${Math.floor(ms / DAY)}d ${Math.floor((ms % DAY) / HOUR)}h`;
  }
  if (ms >= HOUR) {
    return `${Math.floor(ms / HOUR)}h ${Math.floor((ms % HOUR) / MINUTE)}m`;
  }
  if (ms >= MINUTE) {
    return `${Math.floor(ms / MINUTE)}m`;
  }
  return `${Math.ceil(ms / 1000)}s`;
}

/**
 * When to recompute the view next: each minute, but each second while the
 * text shows seconds (the last minute), so the countdown never looks frozen.
 */
export function nextRefreshDelayMs(status: Status | undefined, now: Date): number | undefined {
  if (status === undefined || !hasTimeLeft(status)) {
    return undefined;
  }
  const left = msUntil(status.expiresAt, now);
  if (left === undefined || left <= 0) {
    return undefined;
  }
  if (left < MINUTE + 1000) {
    return 1000;
  }
  // Wake up just after the displayed minute value changes.
  return (left % MINUTE) + 50;
}

function hasTimeLeft(status: Status): boolean {
  return status.state === 'signedIn' || status.state === 'refreshing' || status.state === 'degraded';
}

function who(status: Status): string {
  return status.account ?? status.profile;
}

function timeLeft(status: Status, now: Date): string | undefined {
  const left = msUntil(status.expiresAt, now);
  return left === undefined ? undefined : formatTimeLeft(left);
}

function tooltipLines(status: Status, now: Date, ending = false): string[] {
  const lines = [`tokenwarden · profile "${status.profile}"`, status.message];
  if (status.account !== null) {
    lines.push(`Account: ${status.account}`);
  }
  if (status.issuer !== null) {
    lines.push(`Issuer: ${status.issuer}`);
  }
  if (status.expiresAt !== null && hasTimeLeft(status)) {
    const left = timeLeft(status, now);
    lines.push(`Token expires at ${status.expiresAt}${left === undefined ? '' : ` (${left})`}`);
  }
  if (status.login !== null && status.state === 'signingIn') {
    lines.push(
      isDeviceLogin(status.login)
        ? `Enter code ${status.login.userCode} at ${status.login.verificationUri}`
        : `Finish signing in in the browser${status.login.authorizationUri ? ` (${hostOf(status.login.authorizationUri)})` : ''}`,
    );
  }
  if (status.lastError !== null) {
    lines.push(`Last error: ${status.lastError.message} (${status.lastError.code}, ${status.lastError.at})`);
  }
  if (ending) {
    lines.push('This session cannot be renewed silently: sign in again before it ends.');
  }
  lines.push('Click for actions.');
  return lines;
}

/** The status bar view of one status object at time `now`. */
export function renderStatus(status: Status, now: Date, warnBeforeMs = DEFAULT_WARN_BEFORE_MS): StatusView {
  const ending = status.state === 'signedIn' && endsUnlessSignedIn(status, now, warnBeforeMs);
  const tooltip = tooltipLines(status, now, ending).join('\n');
  switch (status.state) {
    case 'signedOut':
      return { text: '$(account) tokenwarden: Sign in', tooltip, background: undefined };
    case 'signingIn': {
      const code = isDeviceLogin(status.login) ? status.login.userCode : undefined;
      return {
        text: code === undefined ? '$(sync~spin) tokenwarden: signing in' : `$(sync~spin) tokenwarden: ${code}`,
        tooltip,
        background: undefined,
      };
    }
    case 'signedIn':
      if (ending) {
        // Stays in sight until the user signs in: the server's warning toast may hide itself.
        return { text: withTime(`$(warning) ${who(status)}`, status, now), tooltip, background: 'statusBarItem.warningBackground' };
      }
      return { text: withTime(`$(pass) ${who(status)}`, status, now), tooltip, background: undefined };
    case 'refreshing':
      return { text: `$(sync~spin) ${who(status)} · renewing`, tooltip, background: undefined };
    case 'degraded':
      return {
        text: withTime(`$(warning) ${who(status)}`, status, now),
        tooltip,
        background: 'statusBarItem.warningBackground',
      };
    case 'expired':
      return { text: '$(error) tokenwarden: session expired', tooltip, background: 'statusBarItem.errorBackground' };
  }
}

/** The server's default `warnBeforeExpirySeconds`, in ms. */
export const DEFAULT_WARN_BEFORE_MS = 300_000;

/** The session ends within `warnBeforeMs` and only a new sign-in can keep it. */
function endsUnlessSignedIn(status: Status, now: Date, warnBeforeMs: number): boolean {
  const end = status.sessionEndsAt ?? (status.refreshable ? null : status.expiresAt);
  return end !== null && Date.parse(end) - now.getTime() <= warnBeforeMs;
}

function withTime(prefix: string, status: Status, now: Date): string {
  const left = timeLeft(status, now);
  return left === undefined ? prefix : `${prefix} · ${left}`;
}

/** The server process as the status bar needs to know it (a subset of server.ts's ServerState). */
export type ServerPhase =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'failed'; reason: string };

/** The status bar view for the server phase and the active profile's last status. */
export function renderItem(
  phase: ServerPhase,
  status: Status | undefined,
  now: Date,
  warnBeforeMs = DEFAULT_WARN_BEFORE_MS,
): StatusView {
  switch (phase.kind) {
    case 'failed':
      return renderServerDown(phase.reason);
    case 'stopped':
      return renderServerDown('The server is stopped.');
    case 'starting':
      return renderStarting();
    case 'running':
      return status === undefined ? renderStarting() : renderStatus(status, now, warnBeforeMs);
  }
}

/** The view while no server is running (not a protocol state: the client's own). */
export function renderServerDown(reason: string): StatusView {
  return {
    text: '$(circle-slash) tokenwarden: server not running',
    tooltip: `tokenwarden · ${reason}\nClick for actions.`,
    background: 'statusBarItem.errorBackground',
  };
}

/** The view while the server starts. */
export function renderStarting(): StatusView {
  return { text: '$(loading~spin) tokenwarden', tooltip: 'tokenwarden · starting the server…', background: undefined };
}

/** The server's reason, without a "sign-in failed:" of its own (the notification says it once). */
export function failureReason(message: string): string {
  return message.replace(/^(tokenwarden:\s*)?sign-in failed:\s*/i, '');
}

/** The host of a URL, for a short line (the whole authorization URL is long). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
