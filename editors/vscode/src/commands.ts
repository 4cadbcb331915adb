// The palette and context-menu commands: thin glue from VS Code's editor and pickers to the pure
// modules (actions, report) and the server (ServerController, Jobs).
import * as vscode from 'vscode';
import {
  ActionName, CANCEL_COMMAND, REPORT_COMMAND, RunArguments, STATUS_COMMAND, cancelArguments,
  pickRun, refactorItems, runChoices, noSymbolMessage, unsupportedReason, validateInstruction, withInstruction,
} from './actions';
import type { ServerController } from './client';
import { alreadyTold, errorMessage } from './errors';
import type { Jobs } from './jobs';
import { JobItem, Report, Status, activeJobs, cancelResultMessage, jobItem, noJobsMessage, reportMarkdown } from './report';
import { ReportDocument, SHOW_REPORT, SwarmStatusBar } from './views';

export interface CommandDeps {
  controller: ServerController;
  jobs: Jobs;
  statusBar: SwarmStatusBar;
  report: ReportDocument;
  output: vscode.OutputChannel;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { controller, output } = deps;
  const run = (action: ActionName) => () => runAction(deps, action);
  return [
    vscode.commands.registerCommand('swarmLsp.document', run('document')),
    vscode.commands.registerCommand('swarmLsp.tests', run('tests')),
    vscode.commands.registerCommand('swarmLsp.refactor', run('refactor')),
    vscode.commands.registerCommand('swarmLsp.audit', run('audit')),
    vscode.commands.registerCommand('swarmLsp.auditFile', () => auditFile(deps)),
    vscode.commands.registerCommand('swarmLsp.cancel', () => cancelJob(deps)),
    vscode.commands.registerCommand('swarmLsp.showStatus', () => showStatus(deps)),
    vscode.commands.registerCommand(SHOW_REPORT, () => showReport(deps)),
    vscode.commands.registerCommand('swarmLsp.showLog', () => output.show(true)),
    vscode.commands.registerCommand('swarmLsp.restart', async () => {
      if (await controller.restart()) {
        void refreshTokens(deps);
      }
    }),
  ];
}

/** An error of a request to the server, unless the user was already told (it did not start). */
function showError(what: string, error: unknown): void {
  if (!alreadyTold(error)) {
    void vscode.window.showErrorMessage(errorMessage(what, error));
  }
}

function activeFileEditor(action: ActionName | 'auditFile'): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage('Swarm: open a Python, JavaScript, TypeScript, Go or Rust file first');
    return undefined;
  }
  const reason = unsupportedReason(action, editor.document.languageId, editor.document.uri.scheme);
  if (reason !== undefined) {
    void vscode.window.showInformationMessage(`Swarm: ${reason}`);
    return undefined;
  }
  return editor;
}

async function runAction(deps: CommandDeps, action: ActionName): Promise<void> {
  const editor = activeFileEditor(action);
  if (editor === undefined) {
    return;
  }
  const position = editor.selection.active;
  let actions;
  try {
    actions = await deps.controller.codeActions(editor.document, position, action);
  } catch (error) {
    showError(`${action} at line ${position.line + 1}`, error);
    return;
  }
  let args: RunArguments | undefined;
  if (action === 'refactor') {
    args = await chooseRefactor(runChoices(actions, action), position.line);
  } else {
    const pick = pickRun(actions, action, position.line);
    if ('error' in pick) {
      void vscode.window.showInformationMessage(`Swarm: ${pick.error}`);
      return;
    }
    args = pick.args;
  }
  if (args !== undefined) {
    await deps.jobs.run(args);
  }
}

async function chooseRefactor(choices: ReturnType<typeof runChoices>, line: number): Promise<RunArguments | undefined> {
  const items = refactorItems(choices);
  if (items.length === 0) {
    void vscode.window.showInformationMessage(`Swarm: ${noSymbolMessage('refactor', line)}`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Swarm: refactor ${choices[0].args.symbol}`,
    placeHolder: 'A preset, or an instruction of your own',
  });
  if (picked === undefined) {
    return undefined;
  }
  if (picked.args !== undefined) {
    return picked.args;
  }
  const instruction = await vscode.window.showInputBox({
    title: `Swarm: refactor ${choices[0].args.symbol}`,
    prompt: 'What to change (the behaviour is kept: the tests that exercise it must still pass)',
    placeHolder: 'e.g. extract the parsing into a helper',
    validateInput: validateInstruction,
  });
  return instruction === undefined ? undefined : withInstruction(choices[0].args, instruction);
}

async function auditFile(deps: CommandDeps): Promise<void> {
  const editor = activeFileEditor('auditFile');
  if (editor !== undefined) {
    await deps.jobs.auditFile(editor.document.uri.toString(), vscode.workspace.asRelativePath(editor.document.uri));
  }
}

async function fetchStatus(deps: CommandDeps): Promise<Status | undefined> {
  try {
    return (await deps.controller.execute(STATUS_COMMAND)) as Status;
  } catch (error) {
    showError('job status', error);
    return undefined;
  }
}

async function pickJob(deps: CommandDeps, placeHolder: string): Promise<JobItem | undefined> {
  const status = await fetchStatus(deps);
  if (status === undefined) {
    return undefined;
  }
  const jobs = activeJobs(status).map(jobItem);
  if (jobs.length === 0) {
    void vscode.window.showInformationMessage(noJobsMessage(status));
    return undefined;
  }
  return vscode.window.showQuickPick(jobs, { title: 'Swarm jobs', placeHolder });
}

async function cancel(deps: CommandDeps, job: JobItem): Promise<void> {
  try {
    const answer = (await deps.controller.execute(CANCEL_COMMAND, cancelArguments(job.id))) as { job?: string; cancelled?: boolean };
    void vscode.window.showInformationMessage(cancelResultMessage(answer, job.label));
  } catch (error) {
    showError(`cancel ${job.id}`, error);
  }
}

async function cancelJob(deps: CommandDeps): Promise<void> {
  const job = await pickJob(deps, 'The job to cancel');
  if (job !== undefined) {
    await cancel(deps, job);
  }
}

async function showStatus(deps: CommandDeps): Promise<void> {
  const job = await pickJob(deps, 'Running and queued jobs: pick one to cancel it, Escape to close');
  if (job !== undefined) {
    const choice = await vscode.window.showInformationMessage(`Swarm: ${job.label} (${job.description})`, 'Cancel Job');
    if (choice === 'Cancel Job') {
      await cancel(deps, job);
    }
  }
}

/** Today's tokens for the status bar; quiet on failure (the report command says why). */
export async function refreshTokens(deps: Pick<CommandDeps, 'controller' | 'statusBar' | 'output'>): Promise<Report | undefined> {
  try {
    const report = (await deps.controller.execute(REPORT_COMMAND)) as Report;
    deps.statusBar.setToday(report.today);
    return report;
  } catch (error) {
    deps.output.appendLine(`[extension] token report: ${String(error)}`);
    return undefined;
  }
}

async function showReport(deps: CommandDeps): Promise<void> {
  let report: Report;
  try {
    report = (await deps.controller.execute(REPORT_COMMAND)) as Report;
  } catch (error) {
    showError('token report', error);
    return;
  }
  deps.statusBar.setToday(report.today);
  await deps.report.show(reportMarkdown(report));
}
