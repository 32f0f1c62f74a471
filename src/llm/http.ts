// HTTP plumbing shared by the adapters: JSON calls that map failures to
// Warden errors, and readers for NDJSON (Ollama) and SSE (OpenAI) streams.
import type { LlmErrorContext } from './errors.ts';
import { fromHttpError, fromNetworkError, malformedAnswer } from './errors.ts';

export type HttpClientOptions = {
  baseUrl: string;
  /** Extra headers on every request (Authorization). */
  headers?: Record<string, string>;
};

export class HttpClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  constructor(options: HttpClientOptions) {
    // fetch refuses a URL with user:password in it; a server behind basic auth
    // gets the credentials as a header instead, and they stay out of every message.
    const base = new URL(options.baseUrl);
    const basic =
      base.username || base.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
        : undefined;
    base.username = '';
    base.password = '';
    this.baseUrl = (basic ? base.toString() : options.baseUrl).replace(/\/+$/, '');
    this.headers = { ...(basic ? { authorization: basic } : {}), ...options.headers };
  }

  /** Sends a request and returns the response when it is 2xx; throws a mapped error otherwise. */
  async send(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    options: { signal?: AbortSignal; model?: string },
  ): Promise<Response> {
    const ctx: LlmErrorContext = { url: this.baseUrl, model: options.model };
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...this.headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (err) {
      // The caller's abort (or the gateway's timeout) keeps its own reason.
      if (options.signal?.aborted) throw options.signal.reason;
      throw fromNetworkError(err, ctx);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain-text error bodies stay text
      }
      throw fromHttpError(res.status, parsed, ctx);
    }
    return res;
  }

  async json<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: { signal?: AbortSignal; model?: string },
  ): Promise<T> {
    const res = await this.send(method, path, body, options);
    try {
      return (await res.json()) as T;
    } catch {
      if (options.signal?.aborted) throw options.signal.reason;
      throw malformedAnswer({ url: this.baseUrl, model: options.model }, 'not JSON');
    }
  }
}

async function* lines(res: Response, signal: AbortSignal | undefined): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        yield line;
      }
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer;
}

/** Objects of a newline-delimited JSON body; an {"error": ...} line throws. */
export async function* readNdjson<T>(
  res: Response,
  ctx: LlmErrorContext,
  signal?: AbortSignal,
): AsyncGenerator<T> {
  for await (const line of lines(res, signal)) {
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw malformedAnswer(ctx, `a stream line is not JSON: ${line.slice(0, 120)}`);
    }
    if (obj && typeof obj === 'object' && 'error' in obj) {
      throw fromHttpError(500, obj, ctx);
    }
    yield obj as T;
  }
}

/** Data payloads of a server-sent-events body, up to `data: [DONE]`. */
export async function* readSse<T>(
  res: Response,
  ctx: LlmErrorContext,
  signal?: AbortSignal,
): AsyncGenerator<T> {
  for await (const line of lines(res, signal)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return;
    let obj: unknown;
    try {
      obj = JSON.parse(data);
    } catch {
      throw malformedAnswer(ctx, `an event is not JSON: ${data.slice(0, 120)}`);
    }
    if (obj && typeof obj === 'object' && 'error' in obj) throw fromHttpError(500, obj, ctx);
    yield obj as T;
  }
}
