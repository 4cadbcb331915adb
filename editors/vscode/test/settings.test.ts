import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CLIENT_SETTINGS, Inspected, SERVER_SETTINGS, changedSettings, serverArgs, serverSection, serverSettings, userValue,
} from '../src/settings';

const ROOT = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const properties: Record<string, Record<string, unknown>> = manifest.contributes.configuration.properties;

/** An `inspect` over VS Code's scopes: the package.json defaults plus what the user set. */
function inspector(user: Record<string, unknown> = {}, scope: keyof Inspected = 'globalValue') {
  return (setting: string): Inspected | undefined => {
    const declared = properties[`swarmLsp.${setting}`];
    if (declared === undefined) {
      return undefined;
    }
    return { defaultValue: declared.default, ...(setting in user ? { [scope]: user[setting] } : {}) };
  };
}

describe('serverSection: VS Code settings -> the server configuration section', () => {
  test('nothing set: an empty section, so the workspace files and the server defaults apply', () => {
    assert.deepEqual(serverSection(inspector()), {});
    assert.deepEqual(serverSettings(inspector()), { 'swarm-lsp': {} });
  });

  test('each setting maps to its server key', () => {
    const section = serverSection(inspector({
      tiers: ['llamacpp:qwen2.5-coder-1.5b', 'anthropic:claude-sonnet-4-6?candidates=1'],
      escalation: 'never',
      candidates: 2,
      reviewers: 3,
      reviewerTiers: ['llamacpp:qwen2.5-coder-0.5b'],
      'cloudBudget.perAction': 1000,
      'cloudBudget.perDay': 0,
      maxTokens: 256,
      temperature: 0,
      docStyle: 'numpy',
      coverageGoal: 0.8,
      mutants: 0,
      testTimeout: 30,
      auditOnSave: true,
      auditSkip: ['B101', 'CWE-703'],
    }));
    assert.deepEqual(section, {
      tiers: ['llamacpp:qwen2.5-coder-1.5b', 'anthropic:claude-sonnet-4-6?candidates=1'],
      escalation: 'never',
      candidates: 2,
      reviewers: 3,
      reviewer_tiers: ['llamacpp:qwen2.5-coder-0.5b'],
      cloud_budget_action: 1000,
      cloud_budget_day: 0,
      max_tokens: 256,
      temperature: 0,
      doc_style: 'numpy',
      coverage_goal: 0.8,
      mutants: 0,
      test_timeout: 30,
      audit_on_save: true,
      audit_skip: ['B101', 'CWE-703'],
    });
  });

  test('a value equal to the default is sent when the user set it (false and 0 included)', () => {
    assert.deepEqual(serverSection(inspector({ candidates: 3, auditOnSave: false, reviewers: 0 })),
      { candidates: 3, audit_on_save: false, reviewers: 0 });
  });

  test('the most specific scope wins', () => {
    const inspect = () => ({ defaultValue: 3, globalValue: 5, workspaceValue: 4, workspaceFolderValue: 2 });
    assert.equal(userValue(inspect()), 2);
    assert.equal(userValue({ defaultValue: 3, globalValue: 5, workspaceValue: 4 }), 4);
    assert.equal(userValue({ defaultValue: 3 }), undefined);
  });

  test('an empty tier list means unset (the server refuses an empty one); blank entries are dropped', () => {
    assert.deepEqual(serverSection(inspector({ tiers: [], auditSkip: [], reviewerTiers: ['', ' '] })),
      { audit_skip: [], reviewer_tiers: [] });
    assert.deepEqual(serverSection(inspector({ tiers: ['  ', 'llamacpp:qwen2.5-coder-0.5b'] })),
      { tiers: ['llamacpp:qwen2.5-coder-0.5b'] });
  });

  test('the client settings are never sent', () => {
    const section = serverSection(inspector({ path: '/x/swarm-lsp', serverArgs: ['-v'], 'trace.server': 'verbose' }));
    assert.deepEqual(section, {});
  });
});

describe('server arguments and what a change needs', () => {
  test('--stdio comes last, after the extra arguments', () => {
    assert.deepEqual(serverArgs(inspector()), ['--stdio']);
    assert.deepEqual(serverArgs(inspector({ serverArgs: ['-v', '', '--mcp-http', '127.0.0.1:8765'] })),
      ['-v', '--mcp-http', '127.0.0.1:8765', '--stdio']);
  });

  test('path and serverArgs restart the server; the others are sent to it', () => {
    const affects = (changed: string[]) => (section: string) => changed.some((key) => key === section || key.startsWith(`${section}.`));
    assert.deepEqual(changedSettings(affects(['swarmLsp.candidates'])), { server: true, restart: false });
    assert.deepEqual(changedSettings(affects(['swarmLsp.cloudBudget.perDay'])), { server: true, restart: false });
    assert.deepEqual(changedSettings(affects(['swarmLsp.path'])), { server: false, restart: true });
    assert.deepEqual(changedSettings(affects(['swarmLsp.trace.server'])), { server: false, restart: false });
  });
});

describe('package.json contributes exactly these settings', () => {
  test('every swarmLsp setting is either sent to the server or the extension\'s own', () => {
    const contributed = Object.keys(properties).map((key) => key.replace(/^swarmLsp\./, '')).sort();
    const known = [...SERVER_SETTINGS.map((s) => s.setting), ...CLIENT_SETTINGS].sort();
    assert.deepEqual(contributed, known);
  });

  // The ranges and choices in package.json must be the server's (swarm/settings.py LIMITS,
  // swarm/tiers.py ESCALATION_MODES, DOC_STYLES), or the settings UI would accept what it refuses.
  const swarmDir = join(ROOT, '..', '..', 'swarm');
  test('ranges, choices and defaults match the server source', () => {
    const settingsPy = readFileSync(join(swarmDir, 'settings.py'), 'utf8');
    const tiersPy = readFileSync(join(swarmDir, 'tiers.py'), 'utf8');
    const limits = new Map<string, [number, number]>();
    for (const [, key, low, high] of settingsPy.matchAll(/"(\w+)": \(([\d._]+), ([\d._]+)\)/g)) {
      limits.set(key, [Number(low.replace(/_/g, '')), Number(high.replace(/_/g, ''))]);
    }
    for (const { setting, key } of SERVER_SETTINGS) {
      const declared = properties[`swarmLsp.${setting}`];
      const range = limits.get(key);
      if (range !== undefined) {
        assert.deepEqual([declared.minimum, declared.maximum], range, `range of swarmLsp.${setting}`);
        const fieldDefault = settingsPy.match(new RegExp(`^\\s+${key}: \\w+ = ([\\d._]+)`, 'm'));
        assert.ok(fieldDefault, `default of ${key} in swarm/settings.py`);
        assert.equal(declared.default, Number(fieldDefault[1].replace(/_/g, '')), `default of swarmLsp.${setting}`);
      }
    }
    const modes = tiersPy.match(/ESCALATION_MODES = \(([^)]*)\)/);
    assert.ok(modes);
    assert.deepEqual([...(properties['swarmLsp.escalation'].enum as string[])].sort(), [...modes[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort());
    const styles = settingsPy.match(/DOC_STYLES = \(([^)]*)\)/);
    assert.ok(styles);
    assert.deepEqual(properties['swarmLsp.docStyle'].enum, [...styles[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]));
  });
});

describe('per-action settings', () => {
  test('swarmLsp.actions is sent as the server key `actions`; an empty object is not sent', () => {
    const audit = { audit: { tiers: ['llamacpp:qwen2.5-coder-1.5b'], candidates: 1 } };
    assert.deepEqual(serverSection(inspector({ actions: audit })), { actions: audit });
    assert.deepEqual(serverSection(inspector({ actions: {} })), {});
    const declared = properties['swarmLsp.actions'] as { properties: Record<string, unknown> };
    assert.deepEqual(Object.keys(declared.properties), ['document', 'tests', 'refactor', 'audit']);
  });
});
