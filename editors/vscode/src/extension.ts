// Wiring: the output channel, status bar, report document, server controller, jobs and commands.
import * as vscode from 'vscode';
import { runLabel } from './actions';
import { ServerController } from './client';
import { refreshTokens, registerCommands } from './commands';
import { Jobs } from './jobs';
import { ServerMessages } from './messages';
import { JobProgressView } from './progress';
import { CONFIG_SECTION, changedSettings } from './settings';
import type { Level } from './summary';
import { ReportDocument, SwarmStatusBar } from './views';

let controller: ServerController | undefined;

function notify(output: vscode.OutputChannel, level: Level, text: string): void {
  const show = level === 'error' ? vscode.window.showErrorMessage
    : level === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const buttons = level === 'info' ? [] : ['Show Log'];
  void show(text, ...buttons).then((choice) => {
    if (choice === 'Show Log') {
      output.show(true);
    }
  });
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Swarm');
  const statusBar = new SwarmStatusBar();
  const report = new ReportDocument();
  const messages = new ServerMessages((level, text) => notify(output, level, text));
  const progress = new JobProgressView((stage) => statusBar.setProgress(stage));
  const server: ServerController = new ServerController(output, {
    messages,
    progress,
    jobs: () => jobs,
    stateChanged: (state) => statusBar.setServer(state),
  });
  controller = server;
  const tokens = { controller: server, statusBar, output };
  const jobs: Jobs = new Jobs({
    execute: (command, args) => server.execute(command, args),
    notify: (level, text) => notify(output, level, text),
    log: (line) => output.appendLine(line),
    messages,
    changed: (running) => {
      statusBar.setPending(running.length > 0 ? { title: runLabel(running[running.length - 1]) } : undefined);
      if (running.length === 0) {
        void refreshTokens(tokens);
      }
    },
  });

  context.subscriptions.push(
    output, statusBar, report, server, { dispose: () => messages.dispose() },
    ...registerCommands({ controller: server, jobs, statusBar, report, output }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(CONFIG_SECTION)) {
        return;
      }
      const changed = changedSettings((section) => event.affectsConfiguration(section));
      if (changed.restart) {
        output.appendLine('[extension] swarmLsp.path or swarmLsp.serverArgs changed: restarting swarm-lsp');
        if (await server.restart()) {
          void refreshTokens(tokens);
        }
      } else if (changed.server) {
        await server.sendSettings();
      }
    }),
  );

  // Not awaited: activation ends at once, and a command that needs the server waits for it.
  void server.start().then((started) => (started ? refreshTokens(tokens) : undefined));
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
