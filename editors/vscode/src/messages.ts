// The server's window/showMessage notifications, minus the ones that repeat a job's outcome.
//
// The server tells every client a job's summary or error itself (server/lsp/runner.py), just
// before it answers `swarm.run`. This extension shows a richer line from the answer, so while a job
// is in flight a server message is held briefly: if the answer that follows says the same thing it
// is dropped, otherwise it is shown when the hold ends.
import type { Level } from './summary';

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** LSP MessageType: 1 error, 2 warning, 3 info, 4 log (5 debug). */
export function levelOf(type: number): Level {
  return type === 1 ? 'error' : type === 2 ? 'warning' : 'info';
}

interface Held {
  level: Level;
  text: string;
  handle: unknown;
}

export class ServerMessages {
  private inFlight = 0;
  private held: Held[] = [];

  constructor(
    private readonly show: (level: Level, text: string) => void,
    private readonly timers: Timers = realTimers,
    private readonly holdMs = 1000,
  ) {}

  /** A window/showMessage from the server. */
  receive(type: number, text: string): void {
    const level = levelOf(type);
    if (this.inFlight === 0) {
      this.show(level, text);
      return;
    }
    const entry: Held = { level, text, handle: undefined };
    entry.handle = this.timers.set(() => this.release(entry), this.holdMs);
    this.held.push(entry);
  }

  jobStarted(): void {
    this.inFlight += 1;
  }

  /** A job's answer arrived; `echoes` are the texts the server showed for it. */
  jobEnded(echoes: readonly string[]): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    for (const entry of [...this.held]) {
      if (echoes.includes(entry.text)) {
        this.timers.clear(entry.handle);
        this.held = this.held.filter((other) => other !== entry);
      }
    }
  }

  dispose(): void {
    for (const entry of this.held) {
      this.timers.clear(entry.handle);
    }
    this.held = [];
  }

  private release(entry: Held): void {
    if (this.held.includes(entry)) {
      this.held = this.held.filter((other) => other !== entry);
      this.show(entry.level, entry.text);
    }
  }
}
