/**
 * The interpreter selected in the Python extension (ms-python.python), if it is
 * installed: the fallback way to run `python -m tokenwarden serve`.
 */
import type { Disposable, Event, Uri } from 'vscode';
import { getExtension } from './vscodeapi';
import { errorMessage, type Log } from './logging';

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The part of the Python extension's public API used here. */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: Uri): { path: string };
    resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: Uri): { execCommand: string[] | undefined };
  };
}

async function pythonApi(log: Log): Promise<PythonExtensionApi | undefined> {
  const extension = getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (extension === undefined) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch (error) {
    log.warn(`Python extension did not activate: ${errorMessage(error)}`);
    return undefined;
  }
}

/** The active interpreter as an argument vector, or undefined without the Python extension. */
export async function activePythonInterpreter(log: Log): Promise<string[] | undefined> {
  const api = await pythonApi(log);
  if (api === undefined) {
    return undefined;
  }
  try {
    if (api.environments !== undefined) {
      const active = api.environments.getActiveEnvironmentPath();
      const resolved = await api.environments.resolveEnvironment(active);
      const executable = resolved?.executable.uri?.fsPath;
      if (executable !== undefined) {
        return [executable];
      }
    }
    const command = api.settings?.getExecutionDetails().execCommand;
    return command !== undefined && command.length > 0 ? command : undefined;
  } catch (error) {
    log.warn(`Could not read the Python interpreter: ${errorMessage(error)}`);
    return undefined;
  }
}

/** Calls `listener` when the user picks another interpreter in the Python extension. */
export async function onDidChangePythonInterpreter(log: Log, listener: () => void): Promise<Disposable | undefined> {
  const api = await pythonApi(log);
  return api?.environments?.onDidChangeActiveEnvironmentPath(() => listener());
}
