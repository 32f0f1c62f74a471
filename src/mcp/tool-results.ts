// What every Warden MCP server's tools answer with: text (JSON for values),
// errors a caller can act on as results with isError, and the annotation of
// a tool that changes nothing. Only bugs escape a handler.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { isOperationalError, isUserError } from '../errors.ts';

export const readOnly = {
  readOnlyHint: true,
  destructiveHint: false,
  openWorldHint: false,
} as const;

export function toolText(value: unknown, isError = false): CallToolResult {
  return {
    content: [
      { type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) },
    ],
    ...(isError ? { isError: true } : {}),
  };
}

/**
 * Wraps a tool handler: user and operational errors (and whatever `other`
 * turns into a result) become isError results naming their code.
 */
export function guardTool<A, X = unknown>(
  fn: (args: A, extra: X) => Promise<CallToolResult>,
  other?: (err: unknown) => CallToolResult | undefined,
): (args: A, extra: X) => Promise<CallToolResult> {
  return async (args, extra) => {
    try {
      return await fn(args, extra);
    } catch (err) {
      if (isUserError(err) || isOperationalError(err))
        return toolText({ error: err.code, message: err.message }, true);
      const result = other?.(err);
      if (result) return result;
      throw err;
    }
  };
}
