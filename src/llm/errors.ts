// Errors from a model server are rebuilt here, in one place, from the HTTP
// status and the server's own error text. Each says whether a retry can help.
import { maskUrl, maskUrlsInText } from '../config/mask.ts';
import { OperationalError, UserError } from '../errors.ts';

type WardenError = UserError | OperationalError;

export type LlmErrorContext = { url: string; model?: string };

/** The server as errors quote it: credentials in its URL masked. */
const where = (ctx: LlmErrorContext): LlmErrorContext => ({ ...ctx, url: maskUrl(ctx.url) });

/** Whether the gateway may retry after this error (connection lost, 503, 429). */
export function isRetryable(err: unknown): boolean {
  return (
    err instanceof OperationalError && (err.details as { retryable?: boolean })?.retryable === true
  );
}

/** Text of an error body in either dialect: Ollama's {"error": "..."} or OpenAI's {"error": {"message"}}. */
export function errorText(body: unknown): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const e = (body as { error: unknown }).error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && 'message' in e)
      return String((e as { message: unknown }).message);
  }
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Rebuilds a failed HTTP answer as a Warden error; keeps the server's status and words. */
export function fromHttpError(status: number, body: unknown, raw: LlmErrorContext): WardenError {
  const ctx = where(raw);
  const text = maskUrlsInText(errorText(body).slice(0, 500));
  const details = { status, server: ctx.url, model: ctx.model, serverMessage: text };
  if (status === 404 && /not found/i.test(text) && ctx.model) {
    return new UserError(
      'llm_model_not_found',
      `Model "${ctx.model}" is not on the model server at ${ctx.url}: run \`warden models pull\` (or \`ollama pull ${ctx.model}\`)`,
      { status: 404, details },
    );
  }
  if (status === 503 || status === 429) {
    return new OperationalError(
      'llm_overloaded',
      `The model server at ${ctx.url} is busy (${status}): ${text}`,
      { details: { ...details, retryable: true } },
    );
  }
  if (status >= 500) {
    return new OperationalError(
      'llm_server_error',
      `The model server at ${ctx.url} failed (${status}): ${text}`,
      { details: { ...details, retryable: status === 502 || status === 504 } },
    );
  }
  if (status === 401 || status === 403) {
    return new UserError(
      'llm_unauthorized',
      `The model server at ${ctx.url} refused the credentials (${status}); check LLM_API_KEY`,
      { status: 502, details },
    );
  }
  return new UserError(
    'llm_bad_request',
    `The model server at ${ctx.url} refused the request (${status}): ${text}`,
    {
      details,
    },
  );
}

/** A request that never got an HTTP answer: refused, reset, DNS. */
export function fromNetworkError(err: unknown, raw: LlmErrorContext): WardenError {
  const ctx = where(raw);
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  // The runtime's own message may quote the URL it was given, credentials and all.
  const why = maskUrlsInText(
    cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err)),
  );
  return new OperationalError(
    'llm_unavailable',
    `The model server at ${ctx.url} is unreachable (${why}); is Ollama running? (OLLAMA_URL)`,
    { cause: err, details: { server: ctx.url, model: ctx.model, retryable: true } },
  );
}

export function malformedAnswer(raw: LlmErrorContext, why: string): WardenError {
  const ctx = where(raw);
  return new OperationalError(
    'llm_bad_answer',
    `The model server at ${ctx.url} sent an answer Warden cannot read: ${why}`,
    { details: { server: ctx.url, model: ctx.model } },
  );
}
