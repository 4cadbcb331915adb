// The swarm-lsp process and its language client: find the executable, check it, start, restart,
// and say why when it cannot start.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  CodeActionRequest, DidChangeConfigurationNotification, ExecuteCommandRequest, LanguageClient,
  LanguageClientOptions, ShowMessageNotification, State, WorkDoneProgressCancelNotification,
} from 'vscode-languageclient/node';
import {
  ActionName, LANGUAGE_IDS, LspCodeAction, RUN_COMMAND, RunArguments, codeActionParams, executeParams,
} from './actions';
import { ServerUnavailable } from './errors';
import { INSTALL_HINT, ResolveContext, Resolution, VersionCheck, resolveExecutable, versionCheckFailure } from './executable';
import type { Jobs } from './jobs';
import type { ServerMessages } from './messages';
import type { JobProgressView } from './progress';
import { CONFIG_SECTION, Inspect, serverArgs, serverSettings } from './settings';

const VERSION_TIMEOUT_MS = 30_000;

export type ServerState = 'starting' | 'running' | 'stopped';

export interface ControllerHooks {
  messages: ServerMessages;
  progress: JobProgressView;
  jobs(): Jobs;
  stateChanged(state: ServerState): void;
}

function inspectSettings(): Inspect {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  return (setting) => config.inspect(setting);
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function resolveContext(): ResolveContext {
  return {
    platform: process.platform,
    env: process.env,
    homedir: os.homedir(),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath),
    isExecutable,
  };
}

function checkVersion(command: string, cwd: string | undefined): Promise<VersionCheck> {
  return new Promise((resolve) => {
    execFile(command, ['--version'], { cwd, timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { killed?: boolean; signal?: string }) | null;
      resolve({
        errorCode: typeof failure?.code === 'string' ? failure.code : undefined,
        exitCode: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        timedOut: failure?.killed === true && failure.signal === 'SIGTERM',
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<boolean> | undefined;

  constructor(private readonly output: vscode.OutputChannel, private readonly hooks: ControllerHooks) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Start the server unless it runs or is starting; false (after telling the user) when it cannot. */
  start(): Promise<boolean> {
    if (this.client !== undefined) {
      return Promise.resolve(true);
    }
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  async restart(): Promise<boolean> {
    await this.stop();
    return this.start();
  }

  async stop(): Promise<void> {
    await this.starting;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      this.hooks.progress.clear();
      try {
        await client.dispose(2000);
      } catch (error) {
        this.output.appendLine(`[extension] stopping swarm-lsp: ${String(error)}`);
      }
    }
    this.hooks.stateChanged('stopped');
  }

  dispose(): void {
    void this.stop();
  }

  /** workspace/executeCommand; rejects with the server's error. */
  async execute(command: string, args: readonly unknown[] = []): Promise<unknown> {
    const client = await this.ready();
    return client.sendRequest(ExecuteCommandRequest.type, executeParams(command, args));
  }

  async codeActions(document: vscode.TextDocument, position: vscode.Position, action: ActionName): Promise<LspCodeAction[] | null> {
    const client = await this.ready();
    const params = codeActionParams(client.code2ProtocolConverter.asUri(document.uri),
      { line: position.line, character: position.character }, action);
    return (await client.sendRequest(CodeActionRequest.type, params)) as LspCodeAction[] | null;
  }

  /** The settings as they are now, to the running server (it applies them from the next job). */
  async sendSettings(): Promise<void> {
    if (this.client === undefined || !this.running) {
      return;
    }
    const settings = serverSettings(inspectSettings());
    this.output.appendLine(`[extension] settings sent: ${JSON.stringify(settings)}`);
    await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings });
  }

  private async ready(): Promise<LanguageClient> {
    if (this.client === undefined && !(await this.start())) {
      throw new ServerUnavailable();
    }
    return this.client as LanguageClient;
  }

  private async doStart(): Promise<boolean> {
    this.hooks.stateChanged('starting');
    const inspect = inspectSettings();
    const resolution = resolveExecutable(vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('path'), resolveContext());
    if (!resolution.found) {
      return this.failed(`${resolution.reason}.`, resolution);
    }
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const failure = versionCheckFailure(resolution.command, await checkVersion(resolution.command, cwd));
    if (failure !== undefined) {
      return this.failed(`${failure}.`, resolution);
    }
    const args = serverArgs(inspect);
    const initial = JSON.stringify(serverSettings(inspect));
    this.output.appendLine(`[extension] starting ${resolution.command} ${args.join(' ')} (from ${resolution.source})`);
    const client = new LanguageClient('swarmLsp', 'Swarm', {
      command: resolution.command, args, options: { cwd, env: process.env },
    }, this.clientOptions(JSON.parse(initial)));
    client.onDidChangeState(({ newState }) => {
      if (this.client === client) {
        this.hooks.stateChanged(newState === State.Running ? 'running' : newState === State.Starting ? 'starting' : 'stopped');
      }
    });
    // Registered before start, so the client installs it after its own default handler and it
    // replaces that: the server's messages pass through ServerMessages (see messages.ts).
    client.onNotification(ShowMessageNotification.type, ({ type, message }) => this.hooks.messages.receive(type, message));
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.client = undefined;
      await client.dispose().catch(() => undefined);
      return this.failed(`swarm-lsp did not start: ${error instanceof Error ? error.message : String(error)}.`, resolution);
    }
    this.hooks.stateChanged('running');
    if (JSON.stringify(serverSettings(inspectSettings())) !== initial) {
      await this.sendSettings(); // changed while the server was starting
    }
    return true;
  }

  private clientOptions(initializationOptions: object): LanguageClientOptions {
    const { jobs, progress } = this.hooks;
    return {
      documentSelector: LANGUAGE_IDS.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      initializationOptions,
      middleware: {
        // The lightbulb's swarm actions report through Jobs like the palette's commands.
        executeCommand: (command, args, next) =>
          command === RUN_COMMAND && args.length === 1 ? jobs().run(args[0] as RunArguments) : next(command, args),
        handleWorkDoneProgress: (token, params, next) =>
          progress.handle(token, params, () => next(token, params), () =>
            void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token })),
      },
    };
  }

  /** Tell the user why the server cannot start; the notification's buttons act later. */
  private failed(reason: string, resolution: Resolution): false {
    const looked = !resolution.found && resolution.looked.length > 0 ? ` Looked for: ${resolution.looked.join(', ')}.` : '';
    this.output.appendLine(`[extension] ${reason}${looked}`);
    this.hooks.stateChanged('stopped');
    void vscode.window.showErrorMessage(
      `Swarm cannot start its language server: ${reason} ${INSTALL_HINT}`, 'Open Settings', 'Show Log', 'Retry',
    ).then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.path`);
      } else if (choice === 'Show Log') {
        this.output.show(true);
      } else if (choice === 'Retry') {
        void this.start();
      }
    });
    return false;
  }
}
