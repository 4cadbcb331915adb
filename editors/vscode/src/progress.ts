// A job's work-done progress as a notification with a Cancel button.
//
// vscode-languageclient shows server-initiated progress in the status bar (ProgressLocation.Window),
// where a cancellable progress has no Cancel button. The client's handleWorkDoneProgress
// middleware hands the job's progress here instead; Cancel sends window/workDoneProgress/cancel,
// which the server turns into the job's cancel (server/lsp/progress.py).
import * as vscode from 'vscode';
import type { WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from 'vscode-languageclient/node';
import { isJobToken, jobTitle } from './report';

type Token = string | number;
type Params = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

interface Shown {
  title: string;
  stage?: string;
  progress?: vscode.Progress<{ message?: string }>;
  finish(): void;
}

export interface JobStage {
  title: string;
  stage?: string;
}

export class JobProgressView {
  private readonly shown = new Map<Token, Shown>();

  /** `stageChanged` gets the latest job's title and stage, or undefined when none shows progress. */
  constructor(private readonly stageChanged: (stage: JobStage | undefined) => void) {}

  handle(token: Token, params: Params, next: () => void, cancel: () => void): void {
    if (!isJobToken(token)) {
      next();
      return;
    }
    if (params.kind === 'begin') {
      this.begin(token, params, cancel);
    } else if (params.kind === 'report') {
      this.report(token, params.message);
    } else {
      this.end(token);
      next(); // lets the client's own progress part release the token
    }
  }

  /** The server went away: close every notification. */
  clear(): void {
    for (const token of [...this.shown.keys()]) {
      this.end(token);
    }
  }

  private begin(token: Token, params: WorkDoneProgressBegin, cancel: () => void): void {
    let finish = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    const entry: Shown = { title: jobTitle(params.title), stage: params.message, finish: () => finish() };
    this.shown.set(token, entry);
    this.stageChanged({ title: entry.title, stage: entry.stage });
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Swarm: ${entry.title}`, cancellable: params.cancellable === true },
      (progress, cancellation) => {
        entry.progress = progress;
        if (entry.stage) {
          progress.report({ message: entry.stage });
        }
        cancellation.onCancellationRequested(() => {
          if (this.shown.get(token) !== entry) {
            return; // already ended
          }
          entry.stage = 'cancelling…';
          this.stageChanged({ title: entry.title, stage: entry.stage });
          cancel();
        });
        return done;
      },
    );
  }

  private report(token: Token, message: string | undefined): void {
    const entry = this.shown.get(token);
    if (entry === undefined || message === undefined) {
      return;
    }
    entry.stage = message;
    entry.progress?.report({ message });
    this.stageChanged({ title: entry.title, stage: message });
  }

  private end(token: Token): void {
    const entry = this.shown.get(token);
    if (entry === undefined) {
      return;
    }
    this.shown.delete(token);
    entry.finish();
    const latest = [...this.shown.values()].pop();
    this.stageChanged(latest === undefined ? undefined : { title: latest.title, stage: latest.stage });
  }
}
