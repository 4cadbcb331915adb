// The four actions: which code action of the server to ask for, and the `swarm.run` / `swarm.audit`
// / `swarm.cancel` arguments built from the answer. Pure: plain LSP JSON in and out.

export type ActionName = 'document' | 'tests' | 'refactor' | 'audit';

export const RUN_COMMAND = 'swarm.run';
export const AUDIT_COMMAND = 'swarm.audit';
export const STATUS_COMMAND = 'swarm.status';
export const CANCEL_COMMAND = 'swarm.cancel';
export const REPORT_COMMAND = 'swarm.report';

/** server/lsp/code_actions.py ACTION_KINDS */
export const ACTION_KINDS: Record<ActionName, string> = {
  document: 'source.swarm.document',
  tests: 'source.swarm.tests',
  refactor: 'refactor.rewrite.swarm',
  audit: 'source.swarm.audit',
};

/** swarm/analysis/languages.py LANGUAGES, as VS Code language ids (.jsx and .tsx have their own). */
export const LANGUAGE_IDS = ['python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust'];
/** The tests and refactor actions (and swarm.audit of a whole file) cover Python only. */
const PYTHON_ONLY: readonly ActionName[] = ['tests', 'refactor'];

const ACTION_LABELS: Record<ActionName, string> = {
  document: 'Document',
  tests: 'Generate tests',
  refactor: 'Refactor',
  audit: 'Audit',
};

export interface RunArguments {
  action: string;
  uri: string;
  symbol: string;
  line?: number;
  version?: number;
  options?: Record<string, unknown>;
}

/** A code action or a bare command as the server returns them. */
export interface LspCommand {
  title: string;
  command: string;
  arguments?: unknown[];
}
export interface LspCodeAction {
  title: string;
  kind?: string;
  command?: LspCommand;
}

export interface Position {
  line: number;
  character: number;
}

/** Why an action cannot run in this document, or undefined when it can. */
export function unsupportedReason(action: ActionName | 'auditFile', languageId: string, scheme: string): string | undefined {
  const label = action === 'auditFile' ? 'Audit file' : ACTION_LABELS[action];
  if (!LANGUAGE_IDS.includes(languageId)) {
    return `${label}: swarm-lsp works on Python, JavaScript, TypeScript, Go and Rust files, not ${languageId}`;
  }
  if (scheme !== 'file') {
    return `${label}: save the file first (swarm-lsp works on files on disk)`;
  }
  if ((action === 'auditFile' || PYTHON_ONLY.includes(action as ActionName)) && languageId !== 'python') {
    return `${label}: this action covers Python files for now`;
  }
  return undefined;
}

/** textDocument/codeAction params for the symbol at `position`, limited to one action's kind. */
export function codeActionParams(uri: string, position: Position, action: ActionName) {
  return {
    textDocument: { uri },
    range: { start: position, end: position },
    context: { diagnostics: [], only: [ACTION_KINDS[action]], triggerKind: 1 as const /* Invoked */ },
  };
}

function commandOf(item: LspCodeAction | LspCommand): LspCommand | undefined {
  if (typeof item.command === 'string') {
    return item as LspCommand;
  }
  return (item as LspCodeAction).command;
}

function isRunArguments(value: unknown): value is RunArguments {
  const args = value as RunArguments | null;
  return typeof args === 'object' && args !== null && typeof args.action === 'string' &&
    typeof args.uri === 'string' && typeof args.symbol === 'string';
}

export interface RunChoice {
  title: string;
  args: RunArguments;
}

/** The swarm.run choices of one action among the server's code actions, in the server's order. */
export function runChoices(actions: readonly (LspCodeAction | LspCommand)[] | null | undefined, action: ActionName): RunChoice[] {
  const choices: RunChoice[] = [];
  for (const item of actions ?? []) {
    const command = commandOf(item);
    const args = command?.arguments?.[0];
    if (command?.command === RUN_COMMAND && isRunArguments(args) && args.action === action) {
      choices.push({ title: item.title, args });
    }
  }
  return choices;
}

export type RunPick = { args: RunArguments } | { error: string };

/** The one swarm.run to start for document, tests or audit at the cursor. */
export function pickRun(actions: readonly (LspCodeAction | LspCommand)[] | null | undefined, action: ActionName, line: number): RunPick {
  const [first] = runChoices(actions, action);
  if (first === undefined) {
    return { error: noSymbolMessage(action, line) };
  }
  return { args: first.args };
}

export function noSymbolMessage(action: ActionName, line: number): string {
  return `${ACTION_LABELS[action]}: no function, method or class at line ${line + 1}; put the cursor inside one`;
}

export interface RefactorItem {
  label: string;
  description?: string;
  args?: RunArguments; // undefined for the free instruction, which needs an input first
}

export const INSTRUCTION_LABEL = 'Instruction…';

/** The refactor quick pick: one item per preset the server offers, then a free instruction. */
export function refactorItems(choices: readonly RunChoice[]): RefactorItem[] {
  const items: RefactorItem[] = choices.map(({ args }) => ({
    label: String(args.options?.preset ?? args.symbol),
    description: args.symbol,
    args,
  }));
  if (choices.length > 0) {
    items.push({ label: INSTRUCTION_LABEL, description: 'say what to change' });
  }
  return items;
}

/** A refactor of the same symbol with a free instruction instead of a preset. */
export function withInstruction(args: RunArguments, instruction: string): RunArguments {
  const { preset: _preset, ...options } = args.options ?? {};
  return { ...args, options: { ...options, instruction: instruction.trim() } };
}

export function validateInstruction(text: string): string | undefined {
  return text.trim() === '' ? 'Say what to change, e.g. "extract the parsing into a helper"' : undefined;
}

export function auditFileArguments(uri: string): [{ uri: string }] {
  return [{ uri }];
}

export function cancelArguments(jobId: string): [string] {
  return [jobId];
}

/** workspace/executeCommand params; the server's commands take their arguments spread. */
export function executeParams(command: string, args: readonly unknown[] = []) {
  return { command, arguments: [...args] };
}

export function runLabel(args: RunArguments): string {
  const detail = args.options?.preset ?? (args.options?.instruction !== undefined ? 'instruction' : undefined);
  return `${args.action} ${args.symbol}${detail !== undefined ? ` (${String(detail)})` : ''}`;
}
