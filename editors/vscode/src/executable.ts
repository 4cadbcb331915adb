// Where the swarm-lsp executable comes from: the `swarmLsp.path` setting, else the workspace's
// .venv, else PATH. Pure: the file system, environment and platform are injected.
import * as path from 'path';

export const EXECUTABLE = 'swarm-lsp';

export interface ResolveContext {
  platform: string; // process.platform
  env: Record<string, string | undefined>;
  homedir: string;
  workspaceFolders: readonly string[]; // file-system paths, the first one first
  isExecutable(file: string): boolean;
}

export type Resolution =
  | { found: true; command: string; source: 'setting' | 'venv' | 'path' }
  | { found: false; reason: string; looked: string[] };

function pathsFor(platform: string): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

export function venvExecutable(folder: string, platform: string): string {
  return platform === 'win32'
    ? path.win32.join(folder, '.venv', 'Scripts', `${EXECUTABLE}.exe`)
    : path.posix.join(folder, '.venv', 'bin', EXECUTABLE);
}

function pathVariable(env: Record<string, string | undefined>, platform: string): string {
  if (platform !== 'win32') {
    return env.PATH ?? '';
  }
  const key = Object.keys(env).find((name) => name.toUpperCase() === 'PATH');
  return key === undefined ? '' : env[key] ?? '';
}

/** The candidates for a bare command name on PATH, in PATH order. */
export function pathCandidates(name: string, ctx: ResolveContext): string[] {
  const paths = pathsFor(ctx.platform);
  // pip's console scripts are .exe on Windows; a .cmd or .bat would need a shell to start.
  const file = ctx.platform === 'win32' && !name.toLowerCase().endsWith('.exe') ? `${name}.exe` : name;
  const dirs = pathVariable(ctx.env, ctx.platform).split(paths.delimiter).filter((dir) => dir.trim() !== '');
  return [...new Set(dirs.map((dir) => paths.join(dir, file)))];
}

function hasSeparator(value: string, platform: string): boolean {
  return value.includes('/') || (platform === 'win32' && value.includes('\\'));
}

/** `~`, `${workspaceFolder}` and a relative path (from the first workspace folder) made absolute;
 * undefined when a relative path has no workspace folder to start from. */
export function expandSetting(value: string, ctx: ResolveContext): string | undefined {
  const paths = pathsFor(ctx.platform);
  let expanded = value.trim();
  const folder = ctx.workspaceFolders[0];
  if (expanded.includes('${workspaceFolder}')) {
    if (folder === undefined) {
      return undefined;
    }
    expanded = expanded.split('${workspaceFolder}').join(folder);
  }
  if (expanded === '~' || expanded.startsWith('~/') || expanded.startsWith('~\\')) {
    expanded = paths.join(ctx.homedir, expanded.slice(1));
  }
  if (paths.isAbsolute(expanded)) {
    return paths.normalize(expanded);
  }
  return folder === undefined ? undefined : paths.join(folder, expanded);
}

function searchPath(name: string, ctx: ResolveContext): { command?: string; looked: string[] } {
  const looked = pathCandidates(name, ctx);
  return { command: looked.find((file) => ctx.isExecutable(file)), looked };
}

export function resolveExecutable(setting: string | undefined, ctx: ResolveContext): Resolution {
  const configured = (setting ?? '').trim();
  if (configured !== '') {
    // An explicit setting is never silently replaced by another executable: a typo must show.
    if (!hasSeparator(configured, ctx.platform) && !configured.startsWith('~') && !configured.includes('${')) {
      const found = searchPath(configured, ctx);
      return found.command !== undefined
        ? { found: true, command: found.command, source: 'setting' }
        : {
            found: false,
            reason: `swarmLsp.path is "${configured}", which is not an executable on PATH`,
            looked: found.looked,
          };
    }
    const file = expandSetting(configured, ctx);
    if (file === undefined) {
      return {
        found: false,
        reason: `swarmLsp.path is "${configured}", a relative path, and no workspace folder is open`,
        looked: [],
      };
    }
    return ctx.isExecutable(file)
      ? { found: true, command: file, source: 'setting' }
      : { found: false, reason: `swarmLsp.path is "${configured}", and ${file} is not an executable file`, looked: [file] };
  }
  const venvs = ctx.workspaceFolders.map((folder) => venvExecutable(folder, ctx.platform));
  const venv = venvs.find((file) => ctx.isExecutable(file));
  if (venv !== undefined) {
    return { found: true, command: venv, source: 'venv' };
  }
  const onPath = searchPath(EXECUTABLE, ctx);
  if (onPath.command !== undefined) {
    return { found: true, command: onPath.command, source: 'path' };
  }
  const where = venvs.length > 0 ? "in the workspace's .venv or on PATH" : 'on PATH (no workspace folder is open)';
  return { found: false, reason: `${EXECUTABLE} was not found ${where}`, looked: [...venvs, ...onPath.looked] };
}

export const INSTALL_HINT =
  'To install it in the workspace\'s .venv: python3 -m venv .venv, then ' +
  '.venv/bin/pip install -e "<a swarm-lsp checkout>[embedded,model-0-5b,model-1-5b]" and .venv/bin/swarm-lsp models fetch. ' +
  'Or put swarm-lsp on PATH, or set swarmLsp.path to the executable.';

export interface VersionCheck {
  errorCode?: string; // a spawn error such as ENOENT or EACCES
  exitCode?: number | null;
  signal?: string | null;
  timedOut?: boolean;
  stdout?: string;
  stderr?: string;
}

/** Why `swarm-lsp --version` shows the executable cannot serve, or undefined when it can. */
export function versionCheckFailure(command: string, check: VersionCheck): string | undefined {
  if (check.errorCode === 'ENOENT') {
    return `${command} does not exist`;
  }
  if (check.errorCode === 'EACCES') {
    return `${command} is not executable (permission denied)`;
  }
  if (check.timedOut) {
    return `${command} --version did not answer in time`;
  }
  if (check.errorCode !== undefined && check.exitCode == null) {
    return `${command} could not be started (${check.errorCode})`;
  }
  if (check.exitCode !== 0 || check.signal) {
    const tail = (check.stderr ?? '').trim().split(/\r?\n/).slice(-3).join(' | ');
    const how = check.signal ? `was killed by ${check.signal}` : `exited with code ${check.exitCode}`;
    return `${command} --version ${how}${tail ? `: ${tail}` : ''}`;
  }
  if (!/^swarm-lsp\b/.test((check.stdout ?? '').trim())) {
    return `${command} is not swarm-lsp (its --version printed "${(check.stdout ?? '').trim().slice(0, 80)}")`;
  }
  return undefined;
}
