// A readable sentence from whatever a request to the server rejected with: a JSON-RPC error
// response (bad target, stale edit, tier unusable, budget refused...), a cancelled request, or a
// client that is not running.

export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
export const REQUEST_CANCELLED = -32800;
export const SERVER_CANCELLED = -32802;
// vscode-jsonrpc's own codes for a connection that is gone
const CONNECTION_GONE = [-32099, -32098, -32097, -32096];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
}

/** Thrown when the server cannot start; the user was told why, so callers stay quiet. */
export class ServerUnavailable extends Error {
  readonly alreadyTold = true;
  constructor() {
    super('the swarm-lsp server is not running');
  }
}

export function alreadyTold(error: unknown): boolean {
  return (error as { alreadyTold?: unknown } | null)?.alreadyTold === true;
}

export function isCancellation(error: unknown): boolean {
  const code = (error as ErrorLike | null)?.code;
  return code === REQUEST_CANCELLED || code === SERVER_CANCELLED;
}

/** The server's own words when it gave any; otherwise what went wrong, in words. */
export function errorText(error: unknown): string {
  if (isCancellation(error)) {
    return 'cancelled';
  }
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const text = typeof message === 'string' ? message.trim() : typeof error === 'string' ? error.trim() : '';
  if (CONNECTION_GONE.includes(code as number) || /client is not running|connection (got disposed|is closed)/i.test(text)) {
    return 'the swarm-lsp server is not running (Swarm: Restart Server starts it again)';
  }
  if (text !== '') {
    return text;
  }
  return typeof code === 'number' ? `the server answered with error ${code} and no message` : 'unknown error';
}

/** "Swarm: <what>: <why>" for a notification. */
export function errorMessage(what: string, error: unknown): string {
  return `Swarm: ${what}: ${errorText(error)}`;
}
