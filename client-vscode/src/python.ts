// The interpreter the Python extension selected, read through its public API without a
// compile-time dependency on it (the extension is optional).
import * as vscode from "vscode";

interface EnvironmentPath {
  path: string;
}

interface ResolvedEnvironment {
  executable: { uri: vscode.Uri | undefined };
}

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
  resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
  onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
}

async function environmentsApi(): Promise<PythonEnvironmentsApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    return api.environments;
  } catch {
    // A Python extension that fails to start must not keep Handrail from starting.
    return undefined;
  }
}

export async function selectedInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const api = await environmentsApi();
  if (api === undefined) {
    return undefined;
  }
  try {
    const resolved = await api.resolveEnvironment(api.getActiveEnvironmentPath(resource));
    return resolved?.executable.uri?.fsPath;
  } catch {
    return undefined;
  }
}

export async function onInterpreterChange(
  listener: () => void,
): Promise<vscode.Disposable | undefined> {
  const api = await environmentsApi();
  return api?.onDidChangeActiveEnvironmentPath(listener);
}
