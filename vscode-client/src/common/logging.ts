/**
 * The logger every module receives: the extension's LogOutputChannel, seen
 * through the few methods it needs (so tests can pass a plain recorder).
 * Nothing here ever logs a token.
 */
import type { LogOutputChannel } from 'vscode';

export type Log = Pick<LogOutputChannel, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;

/** A printable message for anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return typeof error === 'string' ? error : JSON.stringify(error);
}
