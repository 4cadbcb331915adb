import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RunAnswer, auditFileSummary, runLogLines, runSummary, serverEchoes } from '../src/summary';

// A real swarm.run answer (document slugify, recorded from swarm-lsp 0.1.0), trimmed.
const DOCUMENTED: RunAnswer = {
  job: 'job-3',
  status: 'accepted',
  applied: true,
  tier: 'llamacpp:qwen2.5-coder-0.5b',
  message: 'document slugify: accepted from llamacpp:qwen2.5-coder-0.5b (419 local / 0 cloud tokens, 239.7s)',
  usage: { local_tokens: 419, cloud_tokens: 0 },
  evidence: { language: 'python', symbol_kind: 'function', style: 'google', gates: ['content', 'parses'] },
  attempts: 1,
};

const TESTS_EVIDENCE = {
  test_file: 'tests/test_textutils.py',
  tests_generated: 6,
  tests_kept: ['test_basic', 'test_empty', 'test_max_len', 'test_separator', 'test_unicode'],
  line_coverage: 1.0,
  branch_coverage: 0.875,
  coverage_goal: 1.0,
  mutation_score: 0.7333,
};

describe('runSummary', () => {
  test('accepted and applied, no tests or findings: the server\'s line, as information', () => {
    assert.deepEqual(runSummary(DOCUMENTED, 'document slugify'), {
      level: 'info',
      text: 'Swarm: document slugify: accepted from llamacpp:qwen2.5-coder-0.5b (419 local / 0 cloud tokens, 239.7s)',
    });
  });

  test('accepted tests: tests kept, coverage against the goal and the mutation score', () => {
    const answer = { ...DOCUMENTED, message: 'tests slugify: accepted from llamacpp:qwen2.5-coder-1.5b (2100 local / 0 cloud tokens, 41.0s)', evidence: TESTS_EVIDENCE };
    assert.deepEqual(runSummary(answer, 'tests slugify'), {
      level: 'info',
      text: 'Swarm: tests slugify: accepted from llamacpp:qwen2.5-coder-1.5b (2100 local / 0 cloud tokens, 41.0s). ' +
        '5 tests kept in tests/test_textutils.py; coverage 100% of lines, 88% of branches (goal 100%); mutation score 73%.',
    });
  });

  test('rejected tests: a warning with the reason, what was kept and the attempts', () => {
    const answer: RunAnswer = {
      job: 'job-4', status: 'rejected', applied: false, tier: null,
      message: 'tests slugify: rejected: no candidate passed the gates (3100 local / 0 cloud tokens, 95.2s)',
      usage: { local_tokens: 3100, cloud_tokens: 0 },
      evidence: { ...TESTS_EVIDENCE, tests_kept: [], line_coverage: 0, branch_coverage: 0, mutation_score: null },
      attempts: 6,
    };
    assert.deepEqual(runSummary(answer, 'tests slugify'), {
      level: 'warning',
      text: 'Swarm: tests slugify: rejected: no candidate passed the gates (3100 local / 0 cloud tokens, 95.2s). ' +
        '0 tests kept in tests/test_textutils.py; coverage 0% of lines, 0% of branches (goal 100%); 6 attempts.',
    });
  });

  test('failed: an error', () => {
    const answer: RunAnswer = {
      status: 'failed', applied: false, message: 'document slugify: failed: no tier is usable: llamacpp:qwen2.5-coder-0.5b is not installed (0 local / 0 cloud tokens, 0.1s)',
      evidence: {}, attempts: 0,
    };
    assert.deepEqual(runSummary(answer, 'document slugify'), {
      level: 'error',
      text: 'Swarm: document slugify: failed: no tier is usable: llamacpp:qwen2.5-coder-0.5b is not installed (0 local / 0 cloud tokens, 0.1s)',
    });
  });

  test('audit with findings: count and severities; without: "no findings"', () => {
    const findings = {
      findings: [{ rule_id: 'B602' }, { rule_id: 'B105' }, { rule_id: 'swarm-cwe-89' }],
      by_severity: { high: 2, medium: 0, low: 1 },
    };
    const base = { status: 'accepted', applied: true, message: 'audit run_query: accepted from llamacpp:qwen2.5-coder-1.5b (900 local / 0 cloud tokens, 12.0s)' };
    assert.equal(runSummary({ ...base, evidence: findings }, 'audit run_query').text,
      'Swarm: audit run_query: accepted from llamacpp:qwen2.5-coder-1.5b (900 local / 0 cloud tokens, 12.0s). 3 findings (2 high, 1 low), shown as diagnostics.');
    assert.equal(runSummary({ ...base, evidence: { findings: [], by_severity: { high: 0, medium: 0, low: 0 } } }, 'audit run_query').text,
      'Swarm: audit run_query: accepted from llamacpp:qwen2.5-coder-1.5b (900 local / 0 cloud tokens, 12.0s). No findings.');
  });

  test('accepted but not applied (the document changed): a warning carrying the server\'s note', () => {
    const answer = { ...DOCUMENTED, applied: false, message: `${DOCUMENTED.message}; not applied: the target changed since the job started` };
    assert.deepEqual(runSummary(answer, 'document slugify'), {
      level: 'warning',
      text: `Swarm: ${DOCUMENTED.message}; not applied: the target changed since the job started`,
    });
  });

  test('refactor: complexity before and after, tests that pinned the behaviour', () => {
    const answer: RunAnswer = {
      status: 'accepted', applied: true, message: 'refactor slugify: accepted from llamacpp:qwen2.5-coder-1.5b (800 local / 0 cloud tokens, 20.0s)',
      evidence: { preset: 'simplify', complexity_before: 5, complexity_after: 3, tests_run: ['tests/test_t.py::test_a', 'tests/test_t.py::test_b'], characterization_tests: null },
    };
    assert.equal(runSummary(answer, 'refactor slugify (simplify)').text,
      'Swarm: refactor slugify: accepted from llamacpp:qwen2.5-coder-1.5b (800 local / 0 cloud tokens, 20.0s). Complexity 5 → 3; 2 tests pinned the behaviour.');
  });

  test('cancelled: information; an answer without a message falls back to the label', () => {
    assert.deepEqual(runSummary({ status: 'cancelled' }, 'document slugify'), { level: 'info', text: 'Swarm: document slugify: cancelled' });
  });

  test('the log lines add status, tier, tokens and attempts', () => {
    assert.deepEqual(runLogLines(DOCUMENTED, 'document slugify'), [
      `[job-3] Swarm: ${DOCUMENTED.message}`,
      '  status accepted, applied true, tier llamacpp:qwen2.5-coder-0.5b, 419 local / 0 cloud tokens, 1 attempt',
    ]);
  });

  test('the server\'s own notification texts for an answer and for an error', () => {
    assert.deepEqual(serverEchoes(DOCUMENTED), [`swarm-lsp: ${DOCUMENTED.message}`]);
    assert.deepEqual(serverEchoes(undefined, 'refactor needs an instruction or a preset'), ['swarm-lsp: refactor needs an instruction or a preset']);
  });
});

describe('auditFileSummary (swarm.audit of a whole file)', () => {
  test('findings by severity', () => {
    assert.deepEqual(auditFileSummary({ findings: 2, published: true, by_severity: { high: 1, medium: 1, low: 0 } }, 'app/views.py'), {
      level: 'info', text: 'Swarm: audit of app/views.py: 2 findings (1 high, 1 medium), shown as diagnostics',
    });
  });

  test('no findings', () => {
    assert.deepEqual(auditFileSummary({ findings: 0, published: true, by_severity: { high: 0, medium: 0, low: 0 } }, 'textutils.py'),
      { level: 'info', text: 'Swarm: audit of textutils.py: no findings' });
  });

  test('not published because the document changed meanwhile', () => {
    assert.deepEqual(auditFileSummary({ findings: 4, published: false, reason: 'the document changed' }, 'x.py'),
      { level: 'warning', text: 'Swarm: audit of x.py not shown: the document changed; run it again' });
  });
});
