// Running `swarm.run` and `swarm.audit` and telling the user how they ended. Every path that starts
// a job goes through here: the palette and context-menu commands and the lightbulb's code actions
// (through the language client's executeCommand middleware). Pure: the transport is injected.
import { AUDIT_COMMAND, RUN_COMMAND, RunArguments, auditFileArguments, runLabel } from './actions';
import { alreadyTold, errorText, isCancellation } from './errors';
import type { ServerMessages } from './messages';
import { AuditAnswer, Level, RunAnswer, auditFileSummary, runLogLines, runSummary, serverEchoes } from './summary';

export interface JobDeps {
  execute(command: string, args: unknown[]): Promise<unknown>;
  notify(level: Level, text: string): void;
  log(line: string): void;
  messages: ServerMessages;
  /** Called when a job starts or ends (the status bar and the token report refresh). */
  changed(running: readonly RunArguments[]): void;
}

function isRunAnswer(value: unknown): value is RunAnswer {
  return typeof value === 'object' && value !== null && typeof (value as RunAnswer).status === 'string';
}

export class Jobs {
  private readonly running: RunArguments[] = [];

  constructor(private readonly deps: JobDeps) {}

  get inFlight(): readonly RunArguments[] {
    return this.running;
  }

  /** Run one action; resolves to the server's answer, or undefined when it failed (already told). */
  async run(args: RunArguments): Promise<RunAnswer | undefined> {
    const label = runLabel(args);
    const { deps } = this;
    this.running.push(args);
    deps.messages.jobStarted();
    deps.changed(this.running);
    deps.log(`${label}: started (${args.uri})`);
    try {
      const answer = await deps.execute(RUN_COMMAND, [args]);
      if (!isRunAnswer(answer)) {
        deps.messages.jobEnded([]);
        deps.notify('error', `Swarm: ${label}: the server's answer has no status: ${JSON.stringify(answer)}`);
        return undefined;
      }
      deps.messages.jobEnded(serverEchoes(answer));
      const summary = runSummary(answer, label);
      runLogLines(answer, label).forEach((line) => deps.log(line));
      deps.notify(summary.level, summary.text);
      return answer;
    } catch (error) {
      const why = errorText(error);
      deps.messages.jobEnded(serverEchoes(undefined, why));
      deps.log(`${label}: ${why}`);
      if (!alreadyTold(error)) {
        deps.notify(isCancellation(error) ? 'info' : 'error', `Swarm: ${label}: ${why}`);
      }
      return undefined;
    } finally {
      this.running.splice(this.running.indexOf(args), 1);
      deps.changed(this.running);
    }
  }

  /** The deterministic audit of a whole open file; its findings arrive as diagnostics. */
  async auditFile(uri: string, fileLabel: string): Promise<AuditAnswer | undefined> {
    const { deps } = this;
    try {
      const answer = (await deps.execute(AUDIT_COMMAND, auditFileArguments(uri))) as AuditAnswer;
      const summary = auditFileSummary(answer ?? {}, fileLabel);
      deps.log(summary.text);
      deps.notify(summary.level, summary.text);
      return answer;
    } catch (error) {
      const text = `Swarm: audit of ${fileLabel}: ${errorText(error)}`;
      deps.log(text);
      if (!alreadyTold(error)) {
        deps.notify('error', text);
      }
      return undefined;
    }
  }
}
