// What the user reads after a job: the `swarm.run` answer (server/lsp/runner.py `_summary`) and
// the `swarm.audit` answer (server/lsp/diagnostics.py `publish_audit`) as one notification line.

export type Level = 'info' | 'warning' | 'error';

export interface RunAnswer {
  job?: string;
  status: 'accepted' | 'rejected' | 'failed' | 'cancelled' | string;
  applied?: boolean;
  tier?: string | null;
  message?: string;
  usage?: { local_tokens?: number; cloud_tokens?: number };
  evidence?: Record<string, unknown>;
  attempts?: number;
}

export interface AuditAnswer {
  uri?: string;
  findings?: number;
  published?: boolean;
  reason?: string;
  by_severity?: Record<string, number>;
}

export interface Summary {
  level: Level;
  text: string;
}

const SEVERITIES = ['high', 'medium', 'low'];

export function percent(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value * 100)}%` : undefined;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function severities(bySeverity: unknown): string {
  const counts = (typeof bySeverity === 'object' && bySeverity !== null ? bySeverity : {}) as Record<string, unknown>;
  const parts = SEVERITIES.filter((s) => typeof counts[s] === 'number' && (counts[s] as number) > 0)
    .map((s) => `${counts[s] as number} ${s}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function testsDetail(evidence: Record<string, unknown>): string[] {
  const kept = evidence.tests_kept;
  if (!Array.isArray(kept)) {
    return [];
  }
  const file = typeof evidence.test_file === 'string' ? ` in ${evidence.test_file}` : '';
  const parts = [`${plural(kept.length, 'test')} kept${file}`];
  const lines = percent(evidence.line_coverage);
  const branches = percent(evidence.branch_coverage);
  if (lines !== undefined) {
    const goal = percent(evidence.coverage_goal);
    parts.push(`coverage ${lines} of lines${branches !== undefined ? `, ${branches} of branches` : ''}` +
      (goal !== undefined ? ` (goal ${goal})` : ''));
  }
  const mutation = percent(evidence.mutation_score);
  if (mutation !== undefined) {
    parts.push(`mutation score ${mutation}`);
  }
  return parts;
}

function findingsDetail(evidence: Record<string, unknown>): string[] {
  const findings = evidence.findings;
  if (!Array.isArray(findings)) {
    return [];
  }
  if (findings.length === 0) {
    return ['no findings'];
  }
  return [`${plural(findings.length, 'finding')}${severities(evidence.by_severity)}, shown as diagnostics`];
}

function refactorDetail(evidence: Record<string, unknown>): string[] {
  const parts: string[] = [];
  const { complexity_before: before, complexity_after: after } = evidence;
  if (typeof before === 'number' && typeof after === 'number') {
    parts.push(`complexity ${before} → ${after}`);
  }
  if (Array.isArray(evidence.tests_run) && evidence.tests_run.length > 0) {
    parts.push(`${plural(evidence.tests_run.length, 'test')} pinned the behaviour`);
  }
  if (typeof evidence.characterization_tests === 'string') {
    parts.push(`characterization tests in ${evidence.characterization_tests}`);
  }
  return parts;
}

function level(answer: RunAnswer): Level {
  switch (answer.status) {
    case 'accepted':
      return answer.applied === false ? 'warning' : 'info';
    case 'cancelled':
      return 'info';
    case 'failed':
      return 'error';
    default:
      return 'warning';
  }
}

/** One line: the server's message (status, tier, tokens, time) plus the action's evidence. */
export function runSummary(answer: RunAnswer, label: string): Summary {
  const evidence = answer.evidence ?? {};
  const head = answer.message !== undefined && answer.message !== '' ? answer.message : `${label}: ${answer.status}`;
  const details = [...testsDetail(evidence), ...findingsDetail(evidence), ...refactorDetail(evidence)];
  if (answer.status !== 'accepted' && typeof answer.attempts === 'number' && answer.attempts > 0) {
    details.push(`${plural(answer.attempts, 'attempt')}`);
  }
  const detail = details.join('; ');
  const text = detail !== '' ? `Swarm: ${head}. ${detail[0].toUpperCase()}${detail.slice(1)}.` : `Swarm: ${head}`;
  return { level: level(answer), text };
}

/** The output channel's record of a finished job: the notification line plus the usage. */
export function runLogLines(answer: RunAnswer, label: string): string[] {
  const usage = answer.usage ?? {};
  return [
    `[${answer.job ?? 'job'}] ${runSummary(answer, label).text}`,
    `  status ${answer.status}, applied ${String(answer.applied ?? false)}, tier ${answer.tier ?? 'none'}, ` +
      `${usage.local_tokens ?? 0} local / ${usage.cloud_tokens ?? 0} cloud tokens, ${plural(answer.attempts ?? 0, 'attempt')}`,
  ];
}

export function auditFileSummary(answer: AuditAnswer, fileLabel: string): Summary {
  if (answer.published === false) {
    return { level: 'warning', text: `Swarm: audit of ${fileLabel} not shown: ${answer.reason ?? 'the document changed'}; run it again` };
  }
  const count = answer.findings ?? 0;
  if (count === 0) {
    return { level: 'info', text: `Swarm: audit of ${fileLabel}: no findings` };
  }
  return {
    level: 'info',
    text: `Swarm: audit of ${fileLabel}: ${plural(count, 'finding')}${severities(answer.by_severity)}, shown as diagnostics`,
  };
}

/** The texts the server shows itself for a job's outcome (server/lsp/runner.py `_tell` and
 * `run_action_safely`), which the extension's own richer notification replaces. */
export function serverEchoes(answer: RunAnswer | undefined, errorText?: string): string[] {
  const echoes: string[] = [];
  if (answer?.message) {
    echoes.push(`swarm-lsp: ${answer.message}`);
  }
  if (errorText !== undefined) {
    echoes.push(`swarm-lsp: ${errorText}`);
  }
  return echoes;
}
