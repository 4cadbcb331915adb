import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  ACTION_KINDS, INSTRUCTION_LABEL, LANGUAGE_IDS, LspCodeAction, auditFileArguments, cancelArguments, codeActionParams,
  executeParams, pickRun, refactorItems, runChoices, runLabel, unsupportedReason, validateInstruction, withInstruction,
} from '../src/actions';

const URI = 'file:///work/project/textutils.py';

/** What the server answers for textDocument/codeAction inside slugify (server/lsp/code_actions.py). */
function serverAction(action: string, kind: string, options: Record<string, unknown> = {}, title = `${action} slugify`): LspCodeAction {
  const args = { action, uri: URI, version: 4, symbol: 'slugify', line: 6, options };
  return { title, kind, command: { title, command: 'swarm.run', arguments: [args] } };
}

const REFACTORS = ['simplify', 'extract-helper', 'modernise-types', 'rename-locals'].map((preset) =>
  serverAction('refactor', 'refactor.rewrite.swarm', { preset }, `Refactor slugify: ${preset} (swarm)`));
const ALL = [
  serverAction('document', 'source.swarm.document'),
  serverAction('tests', 'source.swarm.tests'),
  ...REFACTORS,
  serverAction('audit', 'source.swarm.audit'),
];

describe('code action request', () => {
  test('asks for one kind at the cursor', () => {
    assert.deepEqual(codeActionParams(URI, { line: 8, character: 4 }, 'tests'), {
      textDocument: { uri: URI },
      range: { start: { line: 8, character: 4 }, end: { line: 8, character: 4 } },
      context: { diagnostics: [], only: ['source.swarm.tests'], triggerKind: 1 },
    });
  });

  test('the kinds are the server\'s', () => {
    assert.deepEqual(ACTION_KINDS, {
      document: 'source.swarm.document', tests: 'source.swarm.tests', refactor: 'refactor.rewrite.swarm', audit: 'source.swarm.audit',
    });
  });
});

describe('command -> swarm.run arguments', () => {
  for (const action of ['document', 'tests', 'audit'] as const) {
    test(`${action}: the server's own arguments for the symbol, unchanged`, () => {
      assert.deepEqual(pickRun(ALL, action, 8), {
        args: { action, uri: URI, version: 4, symbol: 'slugify', line: 6, options: {} },
      });
    });
  }

  test('no symbol at the cursor: a message naming the line', () => {
    assert.deepEqual(pickRun(null, 'document', 2), {
      error: 'Document: no function, method or class at line 3; put the cursor inside one',
    });
    assert.deepEqual(pickRun([], 'tests', 0), {
      error: 'Generate tests: no function, method or class at line 1; put the cursor inside one',
    });
  });

  test('other commands and quick fixes are not taken for the action', () => {
    const foreign = { title: 'Organize imports', kind: 'source.organizeImports', command: { title: 'x', command: 'python.sortImports', arguments: [{ action: 'document', uri: URI, symbol: 's' }] } };
    const bareCommand = { title: 'Document slugify', command: 'swarm.run', arguments: [{ action: 'document', uri: URI, symbol: 'slugify' }] };
    assert.deepEqual(runChoices([foreign, bareCommand], 'document').map((c) => c.args), [{ action: 'document', uri: URI, symbol: 'slugify' }]);
  });

  test('refactor: one pick per preset in the server\'s order, then a free instruction', () => {
    const items = refactorItems(runChoices(ALL, 'refactor'));
    assert.deepEqual(items.map((i) => i.label), ['simplify', 'extract-helper', 'modernise-types', 'rename-locals', INSTRUCTION_LABEL]);
    assert.deepEqual(items[1].args, { action: 'refactor', uri: URI, version: 4, symbol: 'slugify', line: 6, options: { preset: 'extract-helper' } });
    assert.equal(items[4].args, undefined);
    assert.deepEqual(refactorItems([]), []);
  });

  test('refactor with an instruction: the preset is replaced, everything else kept', () => {
    const [simplify] = runChoices(ALL, 'refactor');
    assert.deepEqual(withInstruction(simplify.args, '  extract the parsing into a helper '), {
      action: 'refactor', uri: URI, version: 4, symbol: 'slugify', line: 6, options: { instruction: 'extract the parsing into a helper' },
    });
    assert.equal(simplify.args.options?.preset, 'simplify', 'the server\'s arguments are not modified');
  });

  test('an empty instruction is refused in the input box', () => {
    assert.match(validateInstruction('   ') ?? '', /Say what to change/);
    assert.equal(validateInstruction('inline the helper'), undefined);
  });

  test('audit file, cancel, status and report arguments', () => {
    assert.deepEqual(executeParams('swarm.audit', auditFileArguments(URI)), { command: 'swarm.audit', arguments: [{ uri: URI }] });
    assert.deepEqual(executeParams('swarm.cancel', cancelArguments('job-3')), { command: 'swarm.cancel', arguments: ['job-3'] });
    assert.deepEqual(executeParams('swarm.status'), { command: 'swarm.status', arguments: [] });
    assert.deepEqual(executeParams('swarm.report'), { command: 'swarm.report', arguments: [] });
  });

  test('a job label names the action, symbol and preset or instruction', () => {
    const [simplify] = runChoices(ALL, 'refactor');
    assert.equal(runLabel(simplify.args), 'refactor slugify (simplify)');
    assert.equal(runLabel(withInstruction(simplify.args, 'x')), 'refactor slugify (instruction)');
    const [document] = runChoices(ALL, 'document');
    assert.equal(runLabel(document.args), 'document slugify');
  });
});

describe('where the actions run', () => {
  test('document and audit in every supported language; tests, refactor and audit file in Python', () => {
    assert.equal(unsupportedReason('document', 'rust', 'file'), undefined);
    assert.equal(unsupportedReason('audit', 'typescriptreact', 'file'), undefined);
    assert.equal(unsupportedReason('tests', 'python', 'file'), undefined);
    assert.equal(unsupportedReason('tests', 'go', 'file'), 'Generate tests: this action covers Python files for now');
    assert.equal(unsupportedReason('refactor', 'javascript', 'file'), 'Refactor: this action covers Python files for now');
    assert.equal(unsupportedReason('auditFile', 'rust', 'file'), 'Audit file: this action covers Python files for now');
  });

  test('other languages and unsaved documents are refused with the reason', () => {
    assert.equal(unsupportedReason('document', 'markdown', 'file'),
      'Document: swarm-lsp works on Python, JavaScript, TypeScript, Go and Rust files, not markdown');
    assert.equal(unsupportedReason('document', 'python', 'untitled'), 'Document: save the file first (swarm-lsp works on files on disk)');
  });
});

describe('package.json wiring', () => {
  const root = join(__dirname, '..', '..');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const commands: { command: string; category: string }[] = manifest.contributes.commands;

  test('every contributed command is registered by the extension and is in the Swarm category', () => {
    const source = readFileSync(join(root, 'src', 'commands.ts'), 'utf8');
    const registered = [...source.matchAll(/registerCommand\('([\w.]+)'/g)].map((m) => m[1]);
    registered.push('swarmLsp.showReport'); // registered through the SHOW_REPORT constant
    assert.deepEqual(commands.map((c) => c.command).sort(), [...new Set(registered)].sort());
    assert.ok(commands.every((c) => c.category === 'Swarm'));
  });

  test('menus name contributed commands only', () => {
    const known = new Set(commands.map((c) => c.command));
    const menus: Record<string, { command?: string; submenu?: string }[]> = manifest.contributes.menus;
    for (const entries of Object.values(menus)) {
      for (const entry of entries) {
        assert.ok(entry.submenu !== undefined || known.has(entry.command ?? ''), `unknown command ${entry.command}`);
      }
    }
    assert.ok(menus['editor/context'].some((entry) => entry.submenu === 'swarmLsp.editorContext'));
  });

  test('activation on every language the server handles', () => {
    assert.deepEqual(manifest.activationEvents, LANGUAGE_IDS.map((id) => `onLanguage:${id}`));
  });
});
