// The status-bar item (running job, today's tokens) and the read-only token report document.
import * as vscode from 'vscode';
import type { JobStage } from './progress';
import { StatusBarState, Totals, statusBar } from './report';

export const SHOW_REPORT = 'swarmLsp.showReport';

export class SwarmStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('swarmLsp.status', vscode.StatusBarAlignment.Left, 10);
  private state: StatusBarState = { server: 'starting' };
  private progress: JobStage | undefined;
  private pending: JobStage | undefined; // a job sent but without progress yet (or ever)

  constructor() {
    this.item.name = 'Swarm';
    this.item.command = SHOW_REPORT;
    this.render();
    this.item.show();
  }

  setServer(server: StatusBarState['server']): void {
    this.state = { ...this.state, server };
    this.render();
  }

  setToday(today: Totals | undefined): void {
    this.state = { ...this.state, today };
    this.render();
  }

  setProgress(stage: JobStage | undefined): void {
    this.progress = stage;
    this.render();
  }

  setPending(stage: JobStage | undefined): void {
    this.pending = stage;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const view = statusBar({ ...this.state, job: this.progress ?? this.pending });
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
  }
}

/** The report as a read-only markdown document that is refreshed in place. */
export class ReportDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'swarm-lsp-report';
  readonly uri = vscode.Uri.from({ scheme: ReportDocument.scheme, path: '/Swarm token report.md' });
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private text = '';
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(ReportDocument.scheme, this);

  provideTextDocumentContent(): string {
    return this.text;
  }

  async show(markdown: string): Promise<void> {
    this.text = markdown;
    this.changes.fire(this.uri);
    const document = await vscode.workspace.openTextDocument(this.uri);
    await vscode.window.showTextDocument(document, { preview: true });
  }

  dispose(): void {
    this.registration.dispose();
    this.changes.dispose();
  }
}
