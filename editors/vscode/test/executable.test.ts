import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResolveContext, pathCandidates, resolveExecutable, versionCheckFailure } from '../src/executable';

function context(executables: string[], overrides: Partial<ResolveContext> = {}): ResolveContext & { asked: string[] } {
  const asked: string[] = [];
  return {
    platform: 'linux',
    env: { PATH: '/usr/local/bin:/usr/bin' },
    homedir: '/home/ada',
    workspaceFolders: ['/work/project'],
    isExecutable: (file) => {
      asked.push(file);
      return executables.includes(file);
    },
    asked,
    ...overrides,
  };
}

describe('resolveExecutable: the order is setting, workspace .venv, PATH', () => {
  test('the setting wins over a .venv and PATH', () => {
    const ctx = context(['/opt/swarm/bin/swarm-lsp', '/work/project/.venv/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
    assert.deepEqual(resolveExecutable('/opt/swarm/bin/swarm-lsp', ctx),
      { found: true, command: '/opt/swarm/bin/swarm-lsp', source: 'setting' });
  });

  test("the workspace's .venv wins over PATH when the setting is empty", () => {
    const ctx = context(['/work/project/.venv/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
    assert.deepEqual(resolveExecutable('  ', ctx), { found: true, command: '/work/project/.venv/bin/swarm-lsp', source: 'venv' });
  });

  test('every workspace folder is tried, the first one first', () => {
    const ctx = context(['/work/second/.venv/bin/swarm-lsp'], { workspaceFolders: ['/work/first', '/work/second'] });
    assert.deepEqual(resolveExecutable(undefined, ctx), { found: true, command: '/work/second/.venv/bin/swarm-lsp', source: 'venv' });
    assert.deepEqual(ctx.asked.slice(0, 2), ['/work/first/.venv/bin/swarm-lsp', '/work/second/.venv/bin/swarm-lsp']);
  });

  test('PATH is searched in order when there is no .venv', () => {
    const ctx = context(['/usr/bin/swarm-lsp', '/usr/local/bin/other']);
    assert.deepEqual(resolveExecutable('', ctx), { found: true, command: '/usr/bin/swarm-lsp', source: 'path' });
    assert.deepEqual(ctx.asked, ['/work/project/.venv/bin/swarm-lsp', '/usr/local/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
  });

  test('Windows: .venv\\Scripts\\swarm-lsp.exe, then swarm-lsp.exe on Path (any case)', () => {
    const venv = context(['C:\\proj\\.venv\\Scripts\\swarm-lsp.exe'], { platform: 'win32', workspaceFolders: ['C:\\proj'], env: {} });
    assert.deepEqual(resolveExecutable('', venv), { found: true, command: 'C:\\proj\\.venv\\Scripts\\swarm-lsp.exe', source: 'venv' });
    const onPath = context(['D:\\tools\\swarm-lsp.exe'], {
      platform: 'win32', workspaceFolders: ['C:\\proj'], env: { Path: 'C:\\Windows;D:\\tools' },
    });
    assert.deepEqual(resolveExecutable('', onPath), { found: true, command: 'D:\\tools\\swarm-lsp.exe', source: 'path' });
  });

  test('missing everywhere: the reason and every place looked at', () => {
    const result = resolveExecutable('', context([]));
    assert.equal(result.found, false);
    assert.ok(!result.found);
    assert.equal(result.reason, "swarm-lsp was not found in the workspace's .venv or on PATH");
    assert.deepEqual(result.looked, ['/work/project/.venv/bin/swarm-lsp', '/usr/local/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
  });

  test('missing with no workspace folder says so', () => {
    const result = resolveExecutable('', context([], { workspaceFolders: [], env: {} }));
    assert.ok(!result.found);
    assert.equal(result.reason, 'swarm-lsp was not found on PATH (no workspace folder is open)');
    assert.deepEqual(result.looked, []);
  });

  test('a setting that points nowhere is an error, not a silent fallback', () => {
    const ctx = context(['/work/project/.venv/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
    const result = resolveExecutable('/opt/typo/swarm-lsp', ctx);
    assert.ok(!result.found);
    assert.equal(result.reason, 'swarmLsp.path is "/opt/typo/swarm-lsp", and /opt/typo/swarm-lsp is not an executable file');
  });

  test('a relative setting is taken from the first workspace folder; ~ and ${workspaceFolder} expand', () => {
    const ctx = context(['/work/project/env/bin/swarm-lsp', '/home/ada/.local/bin/swarm-lsp']);
    assert.deepEqual(resolveExecutable('env/bin/swarm-lsp', ctx), { found: true, command: '/work/project/env/bin/swarm-lsp', source: 'setting' });
    assert.deepEqual(resolveExecutable('${workspaceFolder}/env/bin/swarm-lsp', ctx),
      { found: true, command: '/work/project/env/bin/swarm-lsp', source: 'setting' });
    assert.deepEqual(resolveExecutable('~/.local/bin/swarm-lsp', ctx),
      { found: true, command: '/home/ada/.local/bin/swarm-lsp', source: 'setting' });
  });

  test('a relative setting without a workspace folder cannot be resolved', () => {
    const result = resolveExecutable('env/bin/swarm-lsp', context([], { workspaceFolders: [] }));
    assert.ok(!result.found);
    assert.match(result.reason, /a relative path, and no workspace folder is open/);
  });

  test('a bare command name in the setting is looked up on PATH', () => {
    const ctx = context(['/usr/local/bin/swarm-lsp-dev']);
    assert.deepEqual(resolveExecutable('swarm-lsp-dev', ctx), { found: true, command: '/usr/local/bin/swarm-lsp-dev', source: 'setting' });
    const missing = resolveExecutable('swarm-lsp-nope', ctx);
    assert.ok(!missing.found);
    assert.equal(missing.reason, 'swarmLsp.path is "swarm-lsp-nope", which is not an executable on PATH');
  });

  test('empty and repeated PATH entries are skipped', () => {
    assert.deepEqual(pathCandidates('swarm-lsp', context([], { env: { PATH: ':/bin::/usr/bin:/bin' } })), ['/bin/swarm-lsp', '/usr/bin/swarm-lsp']);
  });
});

describe('versionCheckFailure: why `swarm-lsp --version` shows the executable cannot serve', () => {
  test('a working swarm-lsp passes', () => {
    assert.equal(versionCheckFailure('/x/swarm-lsp', { exitCode: 0, stdout: 'swarm-lsp 0.1.0\n', stderr: '' }), undefined);
  });

  test('a crash reports the exit code and the end of stderr', () => {
    const stderr = 'Traceback (most recent call last):\n  File "x"\nModuleNotFoundError: No module named \'pygls\'\n';
    assert.equal(versionCheckFailure('/x/swarm-lsp', { exitCode: 1, stdout: '', stderr }),
      '/x/swarm-lsp --version exited with code 1: Traceback (most recent call last): |   File "x" | ModuleNotFoundError: No module named \'pygls\'');
  });

  test('spawn errors, time-outs and another program', () => {
    assert.equal(versionCheckFailure('/x/s', { errorCode: 'EACCES', exitCode: null }), '/x/s is not executable (permission denied)');
    assert.equal(versionCheckFailure('/x/s', { errorCode: 'ENOENT', exitCode: null }), '/x/s does not exist');
    assert.equal(versionCheckFailure('/x/s', { timedOut: true, exitCode: null, signal: 'SIGTERM' }), '/x/s --version did not answer in time');
    assert.equal(versionCheckFailure('/x/s', { exitCode: 0, stdout: 'pyright 1.1\n' }), '/x/s is not swarm-lsp (its --version printed "pyright 1.1")');
  });
});
