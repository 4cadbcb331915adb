import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Report, activeJobs, cancelResultMessage, compactTokens, isJobToken, jobItem, jobTitle, noJobsMessage, reportMarkdown, statusBar,
} from '../src/report';

// A real swarm.report answer (swarm-lsp 0.1.0).
const REPORT: Report = {
  ledger: '/root/.local/state/swarm-lsp/ledger.sqlite3',
  today: {
    calls: 242, local_calls: 242, cloud_calls: 0, local_tokens: 36269, cloud_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0,
    failed_calls: 206, actions: 273, actions_by_status: { accepted: 3, rejected: 3, failed: 1, cancelled: 266 },
  },
  workspace: {
    calls: 1, local_calls: 1, cloud_calls: 0, local_tokens: 419, cloud_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0,
    failed_calls: 0, actions: 1, actions_by_status: { accepted: 1, rejected: 0, failed: 0, cancelled: 0 },
  },
  all_time: {
    calls: 1242, local_calls: 1200, cloud_calls: 42, local_tokens: 1_236_269, cloud_tokens: 88_000, cache_read_tokens: 1200, cache_write_tokens: 300,
    failed_calls: 206, actions: 300, actions_by_status: { accepted: 30, rejected: 3, failed: 1, cancelled: 266 },
  },
  note: 'measured tokens from the ledger: prompt + completion per call (cache tokens listed apart)',
};

describe('token report', () => {
  test('a table of today, this workspace and all time', () => {
    const lines = reportMarkdown(REPORT).split('\n');
    assert.equal(lines[0], '# Swarm token report');
    assert.ok(lines.includes('measured tokens from the ledger: prompt + completion per call (cache tokens listed apart).'));
    assert.ok(lines.includes('| local tokens | 36,269 | 419 | 1,236,269 |'));
    assert.ok(lines.includes('| cloud tokens | 0 | 0 | 88,000 |'));
    assert.ok(lines.includes('| cache read / write tokens | 0 / 0 | 0 / 0 | 1,200 / 300 |'));
    assert.ok(lines.includes('| model calls (local / cloud) | 242 (242 / 0) | 1 (1 / 0) | 1,242 (1,200 / 42) |'));
    assert.ok(lines.includes('| accepted / rejected / failed / cancelled | 3 / 3 / 1 / 266 | 1 / 0 / 0 / 0 | 30 / 3 / 1 / 266 |'));
    assert.ok(lines.includes('Ledger: `/root/.local/state/swarm-lsp/ledger.sqlite3`'));
  });

  test('a server without a ledger', () => {
    assert.equal(reportMarkdown({ error: 'no ledger' }), '# Swarm token report\n\nNo report: no ledger.\n');
  });

  test('compact token counts for the status bar', () => {
    assert.deepEqual([0, 950, 1000, 36269, 999_999, 1_250_000, 250_000_000].map(compactTokens),
      ['0', '950', '1k', '36.3k', '1000k', '1.3M', '250M']);
  });
});

describe('status bar', () => {
  test('idle: today\'s local and cloud tokens; the tooltip says the day is UTC\'s', () => {
    assert.deepEqual(statusBar({ server: 'running', today: REPORT.today }), {
      text: '$(hubot) Swarm · 36.3k local · 0 cloud',
      tooltip: 'Swarm tokens today (since 00:00 UTC): 36,269 local, 0 cloud tokens\nClick for the token report.',
    });
  });

  test('a running job with today\'s tokens; its stage in the tooltip', () => {
    const view = statusBar({ server: 'running', today: REPORT.today, job: { title: 'document slugify', stage: 'llamacpp:qwen2.5-coder-0.5b: writing candidate 1' } });
    assert.deepEqual(view, {
      text: '$(sync~spin) Swarm: document slugify · 36.3k local · 0 cloud',
      tooltip: 'Running document slugify: llamacpp:qwen2.5-coder-0.5b: writing candidate 1\n' +
        'Tokens today (since 00:00 UTC): 36,269 local, 0 cloud tokens\nClick for the token report.',
    });
  });

  test('starting, stopped, and no report yet', () => {
    assert.equal(statusBar({ server: 'starting' }).text, '$(loading~spin) Swarm');
    assert.equal(statusBar({ server: 'stopped', today: REPORT.today }).text, '$(circle-slash) Swarm');
    assert.equal(statusBar({ server: 'running' }).text, '$(hubot) Swarm');
  });

  test('job progress tokens and titles', () => {
    assert.equal(isJobToken('swarm-lsp/job-3'), true);
    assert.equal(isJobToken('4f2c-uuid'), false);
    assert.equal(isJobToken(7), false);
    assert.equal(jobTitle('swarm-lsp: refactor Truncator.truncate'), 'refactor Truncator.truncate');
  });
});

describe('jobs (swarm.status) and cancel answers', () => {
  const status = {
    running: [{ id: 'job-5', action: 'tests', target: 'file:///w/textutils.py::slugify', origin: 'lsp', state: 'running', stage: 'candidate 2', waited_s: 0.1, running_s: 12.4 }],
    queued: [{ id: 'job-6', action: 'document', target: 'src/util.ts::truncate', origin: 'mcp', state: 'queued', stage: '', waited_s: 3.2, running_s: 0 }],
    queue_limit: 8,
  };

  test('running first, then queued, with origin when not this editor', () => {
    assert.deepEqual(activeJobs(status).map(jobItem), [
      { id: 'job-5', label: 'tests slugify', description: 'job-5 · running 12s', detail: 'file:///w/textutils.py::slugify — candidate 2' },
      { id: 'job-6', label: 'document truncate', description: 'job-6 · queued 3s · from mcp', detail: 'src/util.ts::truncate' },
    ]);
  });

  test('no jobs', () => {
    assert.equal(noJobsMessage({ running: [], queued: [], queue_limit: 8 }), 'Swarm: no job is running or queued (up to 8 may wait)');
  });

  test('cancel answers', () => {
    assert.equal(cancelResultMessage({ job: 'job-5', cancelled: true }, 'tests slugify'), 'Swarm: cancelling tests slugify (job-5)');
    assert.equal(cancelResultMessage({ job: 'job-5', cancelled: false }, 'tests slugify'), 'Swarm: tests slugify (job-5) had already ended');
  });
});
