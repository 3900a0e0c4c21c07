/**
 * Entry point: wires the pieces together and does nothing else. One
 * `runServer()` (re)starts the server from the settings; a debounced restart
 * follows settings changes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, TokenwardenAuthenticationProvider } from './common/authProvider';
import { registerCommands } from './common/commands';
import { errorMessage, type Log } from './common/logging';
import { activePythonInterpreter, onDidChangePythonInterpreter } from './common/python';
import { TokenwardenServer, type LaunchConfig } from './common/server';
import { findInterpreter, noInterpreterMessage, probePython, type PythonCandidate } from './common/interpreter';
import { describeSource, findOnPath, resolveServerCommand, type BundledServer } from './common/serverCommand';
import { ServerProblems } from './common/serverProblems';
import { knownProfiles, readSettings, RESTART_SETTINGS, SECTION, type ExtensionSettings } from './common/settings';
import { SignInFlow } from './common/signIn';
import { StatusBar } from './common/statusBar';
import { StatusStore } from './common/statusStore';
import {
  createLogOutputChannel,
  getConfiguration,
  getWorkspaceFolders,
  onDidChangeConfiguration,
  registerAuthenticationProvider,
  showWarningMessage,
} from './common/vscodeapi';

const RESTART_DEBOUNCE_MS = 1000;

let activeServer: TokenwardenServer | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = createLogOutputChannel('tokenwarden');
  const store = new StatusStore();
  const server = new TokenwardenServer(log, store);
  activeServer = server;

  let settings = loadSettings(log);
  const options = () => settings.initializationOptions;
  const runServer = async (): Promise<void> => {
    settings = loadSettings(log);
    statusBar.render();
    await server.restart(await launchConfig(settings, log, context.extensionPath));
  };
  const restartSoon = debounce(() => void runServer(), RESTART_DEBOUNCE_MS);

  const signInFlow = new SignInFlow(server, store, log, options);
  const statusBar = new StatusBar(store, server, () => options().profile, () => options().warnBeforeExpirySeconds);
  const authProvider = new TokenwardenAuthenticationProvider(server, store, signInFlow, options, log);
  const problems = new ServerProblems(server, log, runServer);

  context.subscriptions.push(
    log,
    server,
    signInFlow,
    statusBar,
    authProvider,
    problems,
    registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, authProvider, { supportsMultipleAccounts: true }),
    ...registerCommands({
      server,
      store,
      signInFlow,
      log,
      activeProfile: () => options().profile,
      restartServer: runServer,
      showServerProblem: () => problems.showCurrent(),
    }),
    onDidChangeConfiguration((event) => {
      if (RESTART_SETTINGS.some((name) => event.affectsConfiguration(name))) {
        log.info('Settings changed; restarting the server.');
        restartSoon();
      }
    }),
    { dispose: () => restartSoon.cancel() },
  );
  void onDidChangePythonInterpreter(log, () => {
    if (settings.serverCommand.length === 0) {
      restartSoon();
    }
  }).then((subscription) => subscription && context.subscriptions.push(subscription));

  void runServer();
}

export async function deactivate(): Promise<void> {
  await activeServer?.stop();
  activeServer = undefined;
}

function loadSettings(log: Log): ExtensionSettings {
  const { settings, problems } = readSettings(getConfiguration(SECTION));
  for (const problem of problems) {
    log.warn(problem);
  }
  if (problems.length > 0) {
    void showWarningMessage(`tokenwarden: ${problems.join(' ')}`);
  }
  return settings;
}

async function launchConfig(settings: ExtensionSettings, log: Log, extensionPath: string): Promise<LaunchConfig> {
  const configured = settings.serverCommand;
  const bundled = configured.length === 0 ? await bundledServer(settings, log, extensionPath) : undefined;
  const tokenwardenOnPath = configured.length === 0 && bundled?.python === undefined ? findOnPath('tokenwarden') : undefined;
  const needPython = configured.length === 0 && bundled === undefined && tokenwardenOnPath === undefined;
  const pythonInterpreter = needPython ? await activePythonInterpreter(log) : undefined;
  const command = resolveServerCommand({ configured, tokenwardenOnPath, pythonInterpreter, bundled });
  log.info(`Server from ${describeSource(command)}`);
  return {
    command,
    initializationOptions: settings.initializationOptions,
    profiles: knownProfiles(settings.initializationOptions),
    cwd: getWorkspaceFolders()[0]?.uri.fsPath,
  };
}

/** The bundled server and a Python to run it, or undefined when this package has none. */
async function bundledServer(settings: ExtensionSettings, log: Log, extensionPath: string): Promise<BundledServer | undefined> {
  const launcher = path.join(extensionPath, 'bundled', 'launch.py');
  if (!fs.existsSync(launcher) || !fs.existsSync(path.join(extensionPath, 'bundled', 'libs', 'tokenwarden'))) {
    return undefined;
  }
  const candidates: PythonCandidate[] = [];
  if (settings.serverPython.length > 0) {
    candidates.push({ argv: settings.serverPython, origin: 'setting' });
  }
  const active = await activePythonInterpreter(log);
  if (active !== undefined) {
    candidates.push({ argv: active, origin: 'python extension' });
  }
  for (const name of ['python3', 'python']) {
    const found = findOnPath(name);
    if (found !== undefined) {
      candidates.push({ argv: [found], origin: 'PATH' });
    }
  }
  const search = await findInterpreter(candidates, probePython);
  for (const line of search.rejected) {
    log.info(`Python not used for the bundled server: ${line}`);
  }
  if (search.found === undefined) {
    const problem = noInterpreterMessage(search);
    log.warn(problem);
    return { launcher, python: undefined, problem };
  }
  log.info(`Bundled server runs with Python ${search.found.version.join('.')}: ${search.found.argv.join(' ')} (${search.found.origin})`);
  return { launcher, python: search.found.argv };
}

interface Debounced {
  (): void;
  cancel(): void;
}

function debounce(fn: () => void, ms: number): Debounced {
  let timer: NodeJS.Timeout | undefined;
  const debounced = (() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      try {
        fn();
      } catch (error) {
        console.error(errorMessage(error));
      }
    }, ms);
  }) as Debounced;
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
