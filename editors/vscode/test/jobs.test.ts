import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunArguments } from '../src/actions';
import { ServerUnavailable, errorMessage, errorText } from '../src/errors';
import { Jobs } from '../src/jobs';
import { ServerMessages, Timers } from '../src/messages';
import type { Level } from '../src/summary';

/** Timers the test fires by hand. */
class ManualTimers implements Timers {
  pending = new Map<number, () => void>();
  private next = 0;
  set(callback: () => void): number {
    this.pending.set(++this.next, callback);
    return this.next;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const callbacks = [...this.pending.values()];
    this.pending.clear();
    callbacks.forEach((callback) => callback());
  }
}

/** A JSON-RPC error response as vscode-jsonrpc rejects with it. */
function responseError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

const ARGS: RunArguments = { action: 'document', uri: 'file:///w/textutils.py', symbol: 'slugify', line: 6, version: 2, options: {} };
const MESSAGE = 'document slugify: accepted from llamacpp:qwen2.5-coder-0.5b (419 local / 0 cloud tokens, 4.2s)';

function harness(answer: (command: string, args: unknown[]) => Promise<unknown>) {
  const shown: [Level, string][] = [];
  const sent: [string, unknown[]][] = [];
  const timers = new ManualTimers();
  const messages = new ServerMessages((level, text) => shown.push([level, text]), timers);
  const states: number[] = [];
  const jobs = new Jobs({
    execute: (command, args) => {
      sent.push([command, args]);
      return answer(command, args);
    },
    notify: (level, text) => shown.push([level, text]),
    log: () => undefined,
    messages,
    changed: (running) => states.push(running.length),
  });
  return { jobs, shown, sent, timers, messages, states };
}

describe('Jobs.run: swarm.run and what the user is told', () => {
  test('sends the arguments as the one argument of swarm.run and shows the summary once', async () => {
    const h = harness(async () => {
      // the server's own notification arrives before its answer (server/lsp/runner.py _tell)
      h.messages.receive(3, `swarm-lsp: ${MESSAGE}`);
      return { job: 'job-1', status: 'accepted', applied: true, tier: 'llamacpp:qwen2.5-coder-0.5b', message: MESSAGE, usage: { local_tokens: 419, cloud_tokens: 0 }, evidence: {}, attempts: 1 };
    });
    const answer = await h.jobs.run(ARGS);
    assert.equal(answer?.status, 'accepted');
    assert.deepEqual(h.sent, [['swarm.run', [ARGS]]]);
    h.timers.fireAll();
    assert.deepEqual(h.shown, [['info', `Swarm: ${MESSAGE}`]]);
    assert.deepEqual(h.states, [1, 0]);
  });

  test('a JSON-RPC error (bad target) is shown once, in the server\'s words', async () => {
    const why = 'textutils.py: no function, method or class named `nothere`; symbols in this file: `slugify`';
    const h = harness(async () => {
      h.messages.receive(2, `swarm-lsp: ${why}`);
      throw responseError(-32602, why);
    });
    assert.equal(await h.jobs.run({ ...ARGS, symbol: 'nothere' }), undefined);
    h.timers.fireAll();
    assert.deepEqual(h.shown, [['error', `Swarm: document nothere: ${why}`]]);
  });

  test('a rejected job is a warning; an unrelated server message during a job still shows', async () => {
    const rejected = 'document slugify: rejected: no candidate passed the gates (900 local / 0 cloud tokens, 30.0s)';
    const h = harness(async () => {
      h.messages.receive(2, 'swarm-lsp: candidates = 99 in workspace/didChangeConfiguration: expected an integer from 1 to 16');
      h.messages.receive(2, `swarm-lsp: ${rejected}`);
      return { status: 'rejected', applied: false, message: rejected, evidence: {}, attempts: 3 };
    });
    await h.jobs.run(ARGS);
    h.timers.fireAll();
    assert.deepEqual(h.shown, [
      ['warning', `Swarm: ${rejected}. 3 attempts.`],
      ['warning', 'swarm-lsp: candidates = 99 in workspace/didChangeConfiguration: expected an integer from 1 to 16'],
    ]);
  });

  test('a request cancelled by the user is information, not an error', async () => {
    const h = harness(async () => {
      throw responseError(-32800, 'Request cancelled');
    });
    await h.jobs.run(ARGS);
    assert.deepEqual(h.shown, [['info', 'Swarm: document slugify: cancelled']]);
  });

  test('a server that is not running is named as such', async () => {
    const h = harness(async () => {
      throw responseError(-32096, 'Client is not running');
    });
    await h.jobs.run(ARGS);
    assert.deepEqual(h.shown, [['error', 'Swarm: document slugify: the swarm-lsp server is not running (Swarm: Restart Server starts it again)']]);
  });
});

describe('a server that could not start', () => {
  test('the start failure was already explained: no second notification', async () => {
    const h = harness(async () => {
      throw new ServerUnavailable();
    });
    assert.equal(await h.jobs.run(ARGS), undefined);
    assert.equal(await h.jobs.auditFile('file:///w/app.py', 'app.py'), undefined);
    assert.deepEqual(h.shown, []);
    assert.deepEqual(h.states, [1, 0], 'the job is no longer shown as running');
  });
});

describe('Jobs.auditFile: swarm.audit {uri}', () => {
  test('sends {uri} and reports the findings', async () => {
    const h = harness(async () => ({ uri: 'file:///w/app.py', findings: 1, published: true, by_severity: { high: 1, medium: 0, low: 0 } }));
    await h.jobs.auditFile('file:///w/app.py', 'app.py');
    assert.deepEqual(h.sent, [['swarm.audit', [{ uri: 'file:///w/app.py' }]]]);
    assert.deepEqual(h.shown, [['info', 'Swarm: audit of app.py: 1 finding (1 high), shown as diagnostics']]);
  });

  test('a file the audit does not cover: the server\'s reason as an error', async () => {
    const h = harness(async () => {
      throw responseError(-32602, 'file:///w/main.go: the audit covers Python files for now');
    });
    await h.jobs.auditFile('file:///w/main.go', 'main.go');
    assert.deepEqual(h.shown, [['error', 'Swarm: audit of main.go: file:///w/main.go: the audit covers Python files for now']]);
  });
});

describe('ServerMessages without a job', () => {
  test('messages show at once, at their level', () => {
    const shown: [Level, string][] = [];
    const messages = new ServerMessages((level, text) => shown.push([level, text]), new ManualTimers());
    messages.receive(1, 'a');
    messages.receive(2, 'b');
    messages.receive(3, 'c');
    messages.receive(4, 'd');
    assert.deepEqual(shown, [['error', 'a'], ['warning', 'b'], ['info', 'c'], ['info', 'd']]);
  });
});

describe('errorText', () => {
  test('the server\'s message, or a sentence when there is none', () => {
    assert.equal(errorText(responseError(-32603, 'cloud budget per day reached: 499000 tokens spent today + ~4000 for the next call > 500000 (cloud_budget_day)')),
      'cloud budget per day reached: 499000 tokens spent today + ~4000 for the next call > 500000 (cloud_budget_day)');
    assert.equal(errorText(responseError(-32603, '')), 'the server answered with error -32603 and no message');
    assert.equal(errorText('plain'), 'plain');
    assert.equal(errorMessage('token report', new Error('Connection is closed.')),
      'Swarm: token report: the swarm-lsp server is not running (Swarm: Restart Server starts it again)');
  });
});
