/**
 * Settings → typed initializationOptions and server launch settings.
 *
 * Pure: reads through a `SettingsReader` (a `WorkspaceConfiguration` in the
 * extension, a plain object in tests), never imports `vscode`. Bad values are
 * reported as problems and replaced by defaults, so a typo never stops the
 * server from starting.
 */

export const SECTION = 'tokenwarden';

/** Keys of a profile as the server reads them (snake_case, same as config.toml). */
export interface ProfileConfig {
  issuer?: string;
  client_id?: string;
  scopes?: string[];
  audience?: string | null;
  device_authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  userinfo_endpoint?: string;
  /** Keys this client does not know (e.g. presets) pass through unchanged. */
  [key: string]: unknown;
}

/** `initializationOptions` of the LSP contract, fully defaulted. */
export interface InitializationOptions {
  profile: string;
  profiles: Record<string, ProfileConfig>;
  warnBeforeExpirySeconds: number;
  openBrowser: boolean;
}

export type TraceSetting = 'off' | 'messages' | 'verbose';

/** Everything the extension reads from its settings. */
export interface ExtensionSettings {
  initializationOptions: InitializationOptions;
  /** The configured server command; empty means "find it" (see serverCommand.ts). */
  serverCommand: string[];
  /** `tokenwarden.server.python`: the interpreter for the bundled server; empty means "find one". */
  serverPython: string[];
  trace: TraceSetting;
}

export interface ParsedSettings {
  settings: ExtensionSettings;
  /** Human-readable problems found (each names the setting). */
  problems: string[];
}

/** What a `vscode.WorkspaceConfiguration` offers and the parser needs. */
export interface SettingsReader {
  get<T>(key: string): T | undefined;
}

export const DEFAULTS: Readonly<InitializationOptions> = Object.freeze({
  profile: 'default',
  profiles: {},
  warnBeforeExpirySeconds: 300,
  openBrowser: true,
});

/** Settings whose change needs a server restart (they travel in initializationOptions or the command). */
export const RESTART_SETTINGS: readonly string[] = [
  `${SECTION}.profile`,
  `${SECTION}.profiles`,
  `${SECTION}.warnBeforeExpirySeconds`,
  `${SECTION}.openBrowser`,
  `${SECTION}.server.command`,
  `${SECTION}.server.python`,
];

const STRING_PROFILE_KEYS = [
  'issuer',
  'client_id',
  'device_authorization_endpoint',
  'token_endpoint',
  'revocation_endpoint',
  'userinfo_endpoint',
] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and validates all tokenwarden settings. */
export function readSettings(reader: SettingsReader): ParsedSettings {
  const problems: string[] = [];
  const initializationOptions = toInitializationOptions(
    {
      profile: reader.get('profile'),
      profiles: reader.get('profiles'),
      warnBeforeExpirySeconds: reader.get('warnBeforeExpirySeconds'),
      openBrowser: reader.get('openBrowser'),
    },
    problems,
  );
  const serverCommand = parseServerCommand(reader.get('server.command'), problems);
  const serverPython = parseServerCommand(reader.get('server.python'), problems, 'server.python');
  const trace = parseTrace(reader.get('trace.server'));
  return { settings: { initializationOptions, serverCommand, serverPython, trace }, problems };
}

/** Raw, unvalidated settings values. */
export interface RawInitializationSettings {
  profile: unknown;
  profiles: unknown;
  warnBeforeExpirySeconds: unknown;
  openBrowser: unknown;
}

/** Turns raw settings into the contract's initializationOptions; problems are appended. */
export function toInitializationOptions(raw: RawInitializationSettings, problems: string[] = []): InitializationOptions {
  return {
    profile: parseProfileName(raw.profile, problems),
    profiles: parseProfiles(raw.profiles, problems),
    warnBeforeExpirySeconds: parseWarnBefore(raw.warnBeforeExpirySeconds, problems),
    openBrowser: parseBoolean(raw.openBrowser, `${SECTION}.openBrowser`, DEFAULTS.openBrowser, problems),
  };
}

function parseProfileName(value: unknown, problems: string[]): string {
  if (value === undefined || value === null || value === '') {
    return DEFAULTS.profile;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push(`${SECTION}.profile must be a non-empty string; using "${DEFAULTS.profile}".`);
    return DEFAULTS.profile;
  }
  return value.trim();
}

function parseWarnBefore(value: unknown, problems: string[]): number {
  if (value === undefined || value === null) {
    return DEFAULTS.warnBeforeExpirySeconds;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    problems.push(
      `${SECTION}.warnBeforeExpirySeconds must be a number of seconds ≥ 0; using ${DEFAULTS.warnBeforeExpirySeconds}.`,
    );
    return DEFAULTS.warnBeforeExpirySeconds;
  }
  return Math.floor(value);
}

function parseBoolean(value: unknown, name: string, fallback: boolean, problems: string[]): boolean {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'boolean') {
    problems.push(`${name} must be true or false; using ${String(fallback)}.`);
    return fallback;
  }
  return value;
}

function parseProfiles(value: unknown, problems: string[]): Record<string, ProfileConfig> {
  if (value === undefined || value === null) {
    return {};
  }
  if (!isPlainObject(value)) {
    problems.push(`${SECTION}.profiles must be an object of profiles by name; ignoring it.`);
    return {};
  }
  const profiles: Record<string, ProfileConfig> = {};
  for (const [name, profile] of Object.entries(value)) {
    if (!isPlainObject(profile)) {
      problems.push(`${SECTION}.profiles.${name} must be an object; ignoring it.`);
      continue;
    }
    profiles[name] = parseProfile(name, profile, problems);
  }
  return profiles;
}

function parseProfile(name: string, profile: Record<string, unknown>, problems: string[]): ProfileConfig {
  const result: ProfileConfig = { ...profile };
  for (const key of STRING_PROFILE_KEYS) {
    if (key in result && typeof result[key] !== 'string') {
      problems.push(`${SECTION}.profiles.${name}.${key} must be a string; ignoring it.`);
      delete result[key];
    }
  }
  if ('audience' in result && result.audience !== null && typeof result.audience !== 'string') {
    problems.push(`${SECTION}.profiles.${name}.audience must be a string or null; ignoring it.`);
    delete result.audience;
  }
  if ('scopes' in result) {
    const scopes = parseScopes(result.scopes);
    if (scopes === undefined) {
      problems.push(`${SECTION}.profiles.${name}.scopes must be a list of strings; ignoring it.`);
      delete result.scopes;
    } else {
      result.scopes = scopes;
    }
  }
  return result;
}

/** Scopes as a list; a space-separated string is accepted as a convenience. */
function parseScopes(value: unknown): string[] | undefined {
  if (typeof value === 'string') {
    return value.split(/\s+/).filter((scope) => scope !== '');
  }
  if (Array.isArray(value) && value.every((scope) => typeof scope === 'string')) {
    return [...value];
  }
  return undefined;
}

/** `tokenwarden.server.command` as an argument vector: an array as it is, a string split like a shell would. */
export function parseServerCommand(value: unknown, problems: string[] = [], key = 'server.command'): string[] {
  if (value === undefined || value === null || value === '') {
    return [];
  }
  if (typeof value === 'string') {
    return splitCommandLine(value);
  }
  if (Array.isArray(value) && value.every((part) => typeof part === 'string')) {
    return value.filter((part) => part !== '');
  }
  problems.push(`${SECTION}.${key} must be a string or a list of strings; using the default.`);
  return [];
}

/** Splits a command line on whitespace, honouring single and double quotes and backslash escapes. */
export function splitCommandLine(line: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote !== undefined) {
      if (ch === quote) {
        quote = undefined;
      } else if (ch === '\\' && quote === '"' && i + 1 < line.length) {
        current += line[++i];
      } else {
        current += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) {
        parts.push(current);
        current = '';
        inWord = false;
      }
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) {
    parts.push(current);
  }
  return parts;
}

function parseTrace(value: unknown): TraceSetting {
  return value === 'messages' || value === 'verbose' ? value : 'off';
}

/** Profiles the editor knows about: the active one first, then those defined in settings. */
export function knownProfiles(options: InitializationOptions): string[] {
  return [...new Set([options.profile, ...Object.keys(options.profiles)])];
}

/** The profile that should serve a request for `scopes`: the first whose configured scopes cover them, else the active one. */
export function profileForScopes(options: InitializationOptions, scopes: readonly string[]): string {
  if (scopes.length === 0) {
    return options.profile;
  }
  for (const name of knownProfiles(options)) {
    const configured = options.profiles[name]?.scopes;
    if (configured !== undefined && scopes.every((scope) => configured.includes(scope))) {
      return name;
    }
  }
  return options.profile;
}
