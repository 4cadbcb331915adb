// The token report (`swarm.report`, server/lsp/app.py `_ledger_report`), the job list
// (`swarm.status`, server/session/queue.py) and the status bar's text, formatted for people.

export interface Totals {
  calls?: number;
  local_calls?: number;
  cloud_calls?: number;
  local_tokens?: number;
  cloud_tokens?: number;
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  failed_calls?: number;
  actions?: number;
  actions_by_status?: Record<string, number>;
}

export interface Report {
  ledger?: string;
  today?: Totals;
  workspace?: Totals;
  all_time?: Totals;
  note?: string;
  error?: string;
}

export interface JobInfo {
  id: string;
  action: string;
  target: string;
  origin?: string;
  state: string;
  stage?: string;
  waited_s?: number;
  running_s?: number;
}

export interface Status {
  running?: JobInfo[];
  queued?: JobInfo[];
  queue_limit?: number;
}

const STATUSES = ['accepted', 'rejected', 'failed', 'cancelled'];

/** 950 -> "950", 36269 -> "36.3k", 1250000 -> "1.3M". */
export function compactTokens(count: number | undefined): string {
  const n = count ?? 0;
  if (n < 1000) {
    return String(n);
  }
  const [value, unit] = n < 1_000_000 ? [n / 1000, 'k'] : [n / 1_000_000, 'M'];
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))}${unit}`;
}

export function fullNumber(count: number | undefined): string {
  return (count ?? 0).toLocaleString('en-US');
}

function row(label: string, columns: (Totals | undefined)[], cell: (t: Totals) => string): string {
  return `| ${label} | ${columns.map((t) => (t === undefined ? '–' : cell(t))).join(' | ')} |`;
}

export function reportMarkdown(report: Report): string {
  if (report.error !== undefined) {
    return `# Swarm token report\n\nNo report: ${report.error}.\n`;
  }
  const columns = [report.today, report.workspace, report.all_time];
  const byStatus = (t: Totals) => STATUSES.map((s) => fullNumber(t.actions_by_status?.[s])).join(' / ');
  return [
    '# Swarm token report',
    '',
    `${report.note ?? 'Measured tokens from the ledger'}.`,
    '',
    '| | today (since 00:00 UTC) | this workspace | all time |',
    '|---|---:|---:|---:|',
    row('local tokens', columns, (t) => fullNumber(t.local_tokens)),
    row('cloud tokens', columns, (t) => fullNumber(t.cloud_tokens)),
    row('cache read / write tokens', columns, (t) => `${fullNumber(t.cache_read_tokens)} / ${fullNumber(t.cache_write_tokens)}`),
    row('model calls (local / cloud)', columns, (t) => `${fullNumber(t.calls)} (${fullNumber(t.local_calls)} / ${fullNumber(t.cloud_calls)})`),
    row('failed model calls', columns, (t) => fullNumber(t.failed_calls)),
    row('actions', columns, (t) => fullNumber(t.actions)),
    row('accepted / rejected / failed / cancelled', columns, byStatus),
    '',
    report.ledger !== undefined ? `Ledger: \`${report.ledger}\`` : '',
    '',
  ].join('\n');
}

export interface StatusBarState {
  server: 'starting' | 'running' | 'stopped';
  job?: { title: string; stage?: string };
  today?: Totals;
}

export interface StatusBarView {
  text: string;
  tooltip: string;
}

export function statusBar(state: StatusBarState): StatusBarView {
  if (state.server === 'stopped') {
    return { text: '$(circle-slash) Swarm', tooltip: 'swarm-lsp is not running. Swarm: Restart Server starts it.' };
  }
  const today = state.today;
  const compact = today === undefined ? '' : ` · ${compactTokens(today.local_tokens)} local · ${compactTokens(today.cloud_tokens)} cloud`;
  const tokens = today === undefined
    ? 'no token count yet'
    : `today (since 00:00 UTC): ${fullNumber(today.local_tokens)} local, ${fullNumber(today.cloud_tokens)} cloud tokens`;
  if (state.job !== undefined) {
    const stage = state.job.stage ? `: ${state.job.stage}` : '';
    return {
      text: `$(sync~spin) Swarm: ${state.job.title}${compact}`,
      tooltip: `Running ${state.job.title}${stage}\nTokens ${tokens}\nClick for the token report.`,
    };
  }
  if (state.server === 'starting') {
    return { text: '$(loading~spin) Swarm', tooltip: 'swarm-lsp is starting' };
  }
  return { text: `$(hubot) Swarm${compact}`, tooltip: `Swarm tokens ${tokens}\nClick for the token report.` };
}

/** A progress title "swarm-lsp: document slugify" without the server's prefix. */
export function jobTitle(progressTitle: string): string {
  return progressTitle.replace(/^swarm-lsp:\s*/, '');
}

export function activeJobs(status: Status): JobInfo[] {
  return [...(status.running ?? []), ...(status.queued ?? [])];
}

export interface JobItem {
  label: string;
  description: string;
  detail: string;
  id: string;
}

export function jobItem(job: JobInfo): JobItem {
  const seconds = job.state === 'running' ? `running ${(job.running_s ?? 0).toFixed(0)}s` : `queued ${(job.waited_s ?? 0).toFixed(0)}s`;
  return {
    id: job.id,
    label: `${job.action} ${job.target.split('::').pop() ?? job.target}`,
    description: `${job.id} · ${seconds}${job.origin && job.origin !== 'lsp' ? ` · from ${job.origin}` : ''}`,
    detail: job.stage ? `${job.target} — ${job.stage}` : job.target,
  };
}

export function noJobsMessage(status: Status): string {
  const limit = typeof status.queue_limit === 'number' ? ` (up to ${status.queue_limit} may wait)` : '';
  return `Swarm: no job is running or queued${limit}`;
}

export function cancelResultMessage(answer: { job?: string; cancelled?: boolean }, label: string): string {
  return answer.cancelled
    ? `Swarm: cancelling ${label} (${answer.job ?? ''})`
    : `Swarm: ${label} (${answer.job ?? ''}) had already ended`;
}

/** The server's work-done progress tokens for jobs are "swarm-lsp/<job id>" (server/lsp/progress.py). */
export function isJobToken(token: unknown): token is string {
  return typeof token === 'string' && token.startsWith('swarm-lsp/');
}
