// VS Code's `swarmLsp.*` settings -> the server's configuration section (server/config.py keys).
// Only values the user set are sent: an unset key leaves the workspace's swarm-lsp.toml,
// pyproject [tool.swarm-lsp], SWARM_LSP_* variables or the server's own default in force.

export const CONFIG_SECTION = 'swarmLsp';
/** The section name the server looks for in initializationOptions and didChangeConfiguration. */
export const SERVER_SECTION = 'swarm-lsp';

export interface ServerSetting {
  setting: string; // under swarmLsp.
  key: string; // the server's configuration key
  emptyListIsUnset?: boolean; // the server refuses an empty list for this key
  emptyObjectIsUnset?: boolean; // an empty object sets nothing: not sent
}

export const SERVER_SETTINGS: readonly ServerSetting[] = [
  { setting: 'tiers', key: 'tiers', emptyListIsUnset: true },
  { setting: 'escalation', key: 'escalation' },
  { setting: 'candidates', key: 'candidates' },
  { setting: 'reviewers', key: 'reviewers' },
  { setting: 'reviewerTiers', key: 'reviewer_tiers' },
  { setting: 'cloudBudget.perAction', key: 'cloud_budget_action' },
  { setting: 'cloudBudget.perDay', key: 'cloud_budget_day' },
  { setting: 'maxTokens', key: 'max_tokens' },
  { setting: 'temperature', key: 'temperature' },
  { setting: 'docStyle', key: 'doc_style' },
  { setting: 'docExamples', key: 'doc_examples' },
  { setting: 'docReviewers', key: 'doc_reviewers' },
  { setting: 'coverageGoal', key: 'coverage_goal' },
  { setting: 'mutants', key: 'mutants' },
  { setting: 'testTimeout', key: 'test_timeout' },
  { setting: 'differentialInputs', key: 'differential_inputs' },
  { setting: 'differentialSeconds', key: 'differential_seconds' },
  { setting: 'auditOnSave', key: 'audit_on_save' },
  { setting: 'auditSkip', key: 'audit_skip' },
  { setting: 'actions', key: 'actions', emptyObjectIsUnset: true },
];

/** Settings of the extension itself, never sent to the server. */
export const CLIENT_SETTINGS = ['path', 'serverArgs', 'trace.server'] as const;
/** Settings that take a new server process. */
export const RESTART_SETTINGS = ['path', 'serverArgs'] as const;

/** The shape of VS Code's `WorkspaceConfiguration.inspect` result that matters here. */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type Inspect = (setting: string) => Inspected | undefined;

/** The value the user set, most specific scope first; undefined when only the default applies. */
export function userValue(inspected: Inspected | undefined): unknown {
  if (inspected === undefined) {
    return undefined;
  }
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

export function serverSection(inspect: Inspect): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const { setting, key, emptyListIsUnset, emptyObjectIsUnset } of SERVER_SETTINGS) {
    let value = userValue(inspect(setting));
    if (emptyObjectIsUnset && isEmptyObject(value)) {
      continue;
    }
    if (Array.isArray(value)) {
      value = value.filter((item) => typeof item !== 'string' || item.trim() !== '');
      if (emptyListIsUnset && (value as unknown[]).length === 0) {
        continue;
      }
    }
    if (value !== undefined && value !== null) {
      section[key] = value;
    }
  }
  return section;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** initializationOptions and didChangeConfiguration `settings`: the section under its name. */
export function serverSettings(inspect: Inspect): Record<string, Record<string, unknown>> {
  return { [SERVER_SECTION]: serverSection(inspect) };
}

export function serverArgs(inspect: Inspect): string[] {
  const extra = userValue(inspect('serverArgs'));
  const args = Array.isArray(extra) ? extra.filter((arg): arg is string => typeof arg === 'string' && arg !== '') : [];
  return [...args, '--stdio'];
}

/** Which of the settings a configuration change touched, given VS Code's `affectsConfiguration`. */
export function changedSettings(affects: (section: string) => boolean): { server: boolean; restart: boolean } {
  return {
    server: SERVER_SETTINGS.some(({ setting }) => affects(`${CONFIG_SECTION}.${setting}`)),
    restart: RESTART_SETTINGS.some((setting) => affects(`${CONFIG_SECTION}.${setting}`)),
  };
}
