/**
 * Owns the LanguageClient: create, restart, stop, and the typed calls into
 * the server. Failures are logged and turned into a `failed` state that the
 * extension shows as an actionable notification; nothing here throws at the
 * caller of start/restart/stop.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  RequestType,
  ResponseError,
  State,
  type CloseHandlerResult,
  type DynamicFeature,
  type ErrorHandlerResult,
  type Executable,
  type LanguageClientOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import { errorMessage } from './logging';
import {
  announcedProtocolVersion,
  isStatus,
  isTokenResult,
  Methods,
  normalizeStatus,
  PROTOCOL_VERSION,
  ServerCommands,
  tokenErrorFromResponse,
  type GetTokenParams,
  type SignInRequiredData,
  type TemporarilyUnavailableData,
  type ServerCommand as ServerCommandName,
  type Status,
  type TokenRejectedParams,
  type TokenResult,
} from './protocol';
import { describeCommand, describeSource, findOnPath, installHint, type ServerCommand } from './serverCommand';
import type { InitializationOptions } from './settings';
import type { StatusStore } from './statusStore';
import { createEventEmitter } from './vscodeapi';

export const CLIENT_ID = 'tokenwarden';
const CLIENT_NAME = 'tokenwarden';
/** Bounded waits: a server that never answers `initialize` is a broken server, not a slow one. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
/** More crashes than this within CRASH_WINDOW_MS and the server is not restarted again. */
const MAX_CRASHES = 3;
const STDERR_SETTLE_MS = 250;
const CRASH_WINDOW_MS = 3 * 60_000;

/**
 * Typed request objects: with a bare method string, vscode-jsonrpc would send
 * `(params, token)` as a positional array, and the contract wants an object.
 */
const GetTokenRequest = new RequestType<GetTokenParams, TokenResult, SignInRequiredData | TemporarilyUnavailableData>(
  Methods.getToken,
);
const TokenRejectedRequest = new RequestType<TokenRejectedParams, TokenResult, SignInRequiredData | TemporarilyUnavailableData>(
  Methods.tokenRejected,
);

export interface LaunchConfig {
  command: ServerCommand;
  initializationOptions: InitializationOptions;
  /** Profiles whose status is fetched once the server runs. */
  profiles: readonly string[];
  cwd?: string;
}

export type ServerState =
  | { kind: 'stopped' }
  | { kind: 'starting'; commandLine: string }
  | { kind: 'running'; commandLine: string }
  | { kind: 'failed'; commandLine: string; reason: string; hint: string };

/** Thrown by the request helpers while no server runs. */
export class ServerNotRunningError extends Error {
  constructor() {
    super('The tokenwarden server is not running.');
    this.name = 'ServerNotRunningError';
  }
}

/**
 * The stock client, minus two behaviours that do not fit this extension:
 * - it would register every server command as a VS Code command; the
 *   extension contributes its own commands (with UX around them) and
 *   `tokenwarden.refresh` would collide, so the feature is left out and server
 *   commands are sent with `workspace/executeCommand` directly;
 * - it would show its own generic error notifications; the extension shows
 *   actionable ones instead (the messages still go to the log).
 */
class TokenwardenLanguageClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === ExecuteCommandRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }

  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

export class TokenwardenServer implements vscode.Disposable {
  private client: TokenwardenLanguageClient | undefined;
  private clientSubscriptions: vscode.Disposable[] = [];
  private launch: LaunchConfig | undefined;
  private crashes: number[] = [];
  /** Bumped whenever a client is discarded: late events of an old client are ignored. */
  private generation = 0;

  private restartingAfterCrash = false;
  private crashRestartBegan = false;
  private currentState: ServerState = { kind: 'stopped' };
  /** Start/stop/restart run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly stateEmitter = createEventEmitter<ServerState>();
  private readonly externalOpenEmitter = createEventEmitter<string>();

  /** Fires on every server state change. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires when the server asked the editor to open a URI externally (`window/showDocument`). */
  readonly onDidOpenExternal = this.externalOpenEmitter.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly store: StatusStore,
  ) {}

  get state(): ServerState {
    return this.currentState;
  }

  /** Which server runs and why (setting, bundled, PATH, …), for the status command. */
  get launchDescription(): string | undefined {
    return this.launch === undefined ? undefined : `${describeSource(this.launch.command)}: ${describeCommand(this.launch.command)}`;
  }

  /** (Re)starts the server with `config`; resolves when it runs or has failed. */
  restart(config: LaunchConfig): Promise<void> {
    return this.enqueue(async () => {
      await this.stopClient();
      this.launch = config;
      this.crashes = [];
      this.restartingAfterCrash = false;
      await this.startClient(config);
    });
  }

  /** Stops the server; resolves when it has stopped. */
  stop(): Promise<void> {
    return this.enqueue(async () => {
      await this.stopClient();
      this.setState({ kind: 'stopped' });
    });
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.externalOpenEmitter.dispose();
  }

  /** Runs a server command with one optional object argument. */
  async executeCommand<R>(command: ServerCommandName, argument?: object): Promise<R> {
    const client = this.runningClient();
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: argument === undefined ? [] : [argument],
    });
    if (isStatus(result)) {
      // Every status-bearing reply is also news for the views.
      const status = normalizeStatus(result);
      this.store.update(status);
      return status as R;
    }
    return result as R;
  }

  /** `tokenwarden.status` for one profile. */
  status(profile: string): Promise<Status> {
    return this.executeCommand<Status>(ServerCommands.status, { profile });
  }

  /** `tokenwarden/getToken`; throws SignInRequiredError / TemporarilyUnavailableError as typed errors. */
  getToken(params: GetTokenParams, token?: vscode.CancellationToken): Promise<TokenResult> {
    const client = this.runningClient();
    return checkedToken(Methods.getToken, client.sendRequest(GetTokenRequest, params, token));
  }

  /** `tokenwarden/tokenRejected`: a consumer got 401 with this token. */
  tokenRejected(params: TokenRejectedParams): Promise<TokenResult> {
    const client = this.runningClient();
    return checkedToken(Methods.tokenRejected, client.sendRequest(TokenRejectedRequest, params));
  }

  private runningClient(): TokenwardenLanguageClient {
    if (this.client === undefined || !this.client.isRunning()) {
      throw new ServerNotRunningError();
    }
    return this.client;
  }

  private enqueue(operation: () => Promise<void>): Promise<void> {
    const next = this.queue.then(operation).catch((error: unknown) => {
      this.log.error(`Server lifecycle operation failed: ${errorMessage(error)}`);
    });
    this.queue = next;
    return next;
  }

  private setState(state: ServerState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  private fail(commandLine: string, reason: string, hint: string): void {
    this.log.error(`Server failed: ${reason}`);
    this.setState({ kind: 'failed', commandLine, reason, hint });
  }

  private async startClient(config: LaunchConfig): Promise<void> {
    const commandLine = describeCommand(config.command);
    const missing = missingExecutable(config.command.command);
    if (missing !== undefined) {
      this.fail(commandLine, missing, installHint(config.command));
      return;
    }
    this.setState({ kind: 'starting', commandLine });
    this.log.info(`Starting server: ${commandLine}`);
    const generation = ++this.generation;
    // The last lines the server writes to stderr: why it failed, in its own words.
    const stderrTail: string[] = [];
    const client = this.createClient(config, generation, stderrTail);
    this.client = client;
    this.clientSubscriptions = [
      client.onNotification(Methods.didChangeStatus, (params: unknown) => this.onStatusNotification(params)),
      client.onDidChangeState((event) => {
        if (generation === this.generation) {
          this.onClientStateChange(event.newState);
        }
      }),
    ];
    try {
      await withTimeout(client.start(), START_TIMEOUT_MS, `the server did not answer "initialize" within ${START_TIMEOUT_MS / 1000} s`);
    } catch (error) {
      await this.discardClient(client);
      await delay(STDERR_SETTLE_MS); // let the dead process's last words arrive
      const said = stderrTail.at(-1);
      const why = said === undefined ? errorMessage(error) : `${said} (${errorMessage(error)})`;
      this.fail(commandLine, `"${commandLine}" could not be started: ${why}.`, installHint(config.command));
      return;
    }
    this.checkProtocolVersion(client);
    this.setState({ kind: 'running', commandLine });
    await this.fetchStatuses(config.profiles);
  }

  private createClient(config: LaunchConfig, generation: number, stderrTail: string[]): TokenwardenLanguageClient {
    const executable: Executable = {
      command: config.command.command,
      args: config.command.args,
      options: { cwd: config.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      // tokenwarden serves no documents: it only owns tokens.
      documentSelector: [],
      outputChannel: this.log,
      traceOutputChannel: this.log,
      initializationOptions: config.initializationOptions,
      errorHandler: {
        error: (_error, _message, count): ErrorHandlerResult => ({
          action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: (): CloseHandlerResult =>
          generation === this.generation
            ? this.onConnectionClosed(config)
            : { action: CloseAction.DoNotRestart, handled: true },
      },
      stdioOptions: {
        // Only used for non-stdio transports; kept like the default for completeness.
        stdout: (input, channel) => onLines(input, (line) => channel.info(line)),
        stderr: (input, channel) =>
          onLines(input, (line) => {
            channel.warn(`[server stderr] ${line}`);
            if (line.trim() !== '') {
              stderrTail.push(line.trim());
              stderrTail.splice(0, Math.max(0, stderrTail.length - 5));
            }
          }),
      },
      initializationFailedHandler: () => false,
      middleware: {
        window: {
          showDocument: async (params, token, next) => {
            if (params.external === true) {
              this.externalOpenEmitter.fire(params.uri);
            }
            return next(params, token);
          },
        },
      },
    };
    return new TokenwardenLanguageClient(CLIENT_ID, CLIENT_NAME, executable, clientOptions);
  }

  private onConnectionClosed(config: LaunchConfig): CloseHandlerResult {
    if (this.currentState.kind !== 'running') {
      // Died while starting: startClient reports it; restarting would only repeat it.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.crashes = [...this.crashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
    this.store.clear();
    const commandLine = describeCommand(config.command);
    if (this.crashes.length <= MAX_CRASHES) {
      this.log.warn(`Server connection closed; restarting (${this.crashes.length}/${MAX_CRASHES}).`);
      this.restartingAfterCrash = true;
      this.crashRestartBegan = false;
      this.setState({ kind: 'starting', commandLine });
      return { action: CloseAction.Restart, handled: true };
    }
    this.fail(
      commandLine,
      `The server stopped ${this.crashes.length} times within ${CRASH_WINDOW_MS / 60_000} minutes and is not restarted again.`,
      installHint(config.command),
    );
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  /** Follows the client's own restart after a crash (the initial start is followed by startClient). */
  private onClientStateChange(state: State): void {
    if (!this.restartingAfterCrash || this.launch === undefined) {
      return;
    }
    const commandLine = describeCommand(this.launch.command);
    if (state === State.Starting) {
      this.crashRestartBegan = true;
    } else if (state === State.Running) {
      this.restartingAfterCrash = false;
      this.setState({ kind: 'running', commandLine });
      // The old statuses went with the old process: fetch fresh ones.
      void this.fetchStatuses(this.launch.profiles);
    } else if (state === State.Stopped && this.crashRestartBegan) {
      // Stopped right after Starting: the restart itself failed.
      this.restartingAfterCrash = false;
      this.fail(commandLine, 'The server stopped and could not be restarted.', installHint(this.launch.command));
    }
  }

  private onStatusNotification(params: unknown): void {
    if (!isStatus(params)) {
      this.log.warn(`Ignoring malformed ${Methods.didChangeStatus}: ${JSON.stringify(params)}`);
      return;
    }
    this.store.update(normalizeStatus(params));
  }

  private checkProtocolVersion(client: TokenwardenLanguageClient): void {
    const version = announcedProtocolVersion(client.initializeResult?.capabilities.experimental);
    if (version !== PROTOCOL_VERSION) {
      const announced = version === undefined ? 'no protocol version' : `protocol version ${version}`;
      this.log.warn(`Server announced ${announced}; this extension speaks version ${PROTOCOL_VERSION}.`);
    }
  }

  private async fetchStatuses(profiles: readonly string[]): Promise<void> {
    for (const profile of profiles) {
      try {
        await this.status(profile);
      } catch (error) {
        this.log.warn(`Could not read the status of profile "${profile}": ${errorMessage(error)}`);
      }
    }
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    this.log.info('Stopping server.');
    await this.discardClient(client);
  }

  private async discardClient(client: TokenwardenLanguageClient): Promise<void> {
    this.generation++;
    for (const subscription of this.clientSubscriptions) {
      subscription.dispose();
    }
    this.clientSubscriptions = [];
    if (this.client === client) {
      this.client = undefined;
    }
    this.store.clear();
    try {
      if (client.needsStop()) {
        await client.stop(STOP_TIMEOUT_MS);
      }
    } catch (error) {
      this.log.warn(`Server did not stop cleanly: ${errorMessage(error)}`);
    }
    try {
      await client.dispose(STOP_TIMEOUT_MS);
    } catch {
      // Already stopped: nothing left to release.
    }
  }
}

/** A token reply, checked; JSON-RPC errors of the contract become typed errors. */
async function checkedToken(method: string, reply: Promise<unknown>): Promise<TokenResult> {
  let result: unknown;
  try {
    result = await reply;
  } catch (error) {
    if (error instanceof ResponseError) {
      throw tokenErrorFromResponse(error.code, error.message, error.data) ?? error;
    }
    throw error;
  }
  if (!isTokenResult(result)) {
    throw new Error(`${method} returned no token (protocol mismatch).`);
  }
  return result;
}

/** Why `command` cannot be spawned, or undefined when it looks runnable. */
function missingExecutable(command: string): string | undefined {
  if (command.includes('/') || command.includes(path.sep)) {
    try {
      fs.accessSync(command, fs.constants.X_OK);
      return undefined;
    } catch {
      return `"${command}" does not exist or is not executable.`;
    }
  }
  return findOnPath(command) === undefined ? `"${command}" was not found on PATH.` : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function onLines(input: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false, historySize: 0 }).on('line', onLine);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
