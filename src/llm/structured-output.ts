// Structured output you can trust: the zod schema becomes the JSON schema
// sent as `format` (Ollama) or `response_format` (OpenAI), the answer is
// validated with zod, and one repair round sends the validation errors back.
// A second failure is an error, never a guess.
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

import { OperationalError } from '../errors.ts';
import { extractJsonObject } from './json-extract.ts';
import type { ChatMessage, ChatResponse, LlmProvider } from './provider.ts';

export type StructuredRequest<T> = {
  llm: LlmProvider;
  model: string;
  messages: ChatMessage[];
  schema: z.ZodType<T>;
  /** Repair rounds after an invalid answer. @default 1 */
  repairs?: number;
  /** @default 0 */
  temperature?: number;
  signal?: AbortSignal;
};

export type StructuredResult<T> = {
  value: T;
  /** The answer that passed validation. */
  response: ChatResponse;
  /** How many repair rounds it took (0: right the first time). */
  repairs: number;
};

/** The JSON schema for a zod schema, inlined (small models do badly with $ref). */
export function jsonSchemaOf(schema: z.ZodType<unknown>): Record<string, unknown> {
  const s = zodToJsonSchema(schema, { $refStrategy: 'none', target: 'jsonSchema7' }) as Record<
    string,
    unknown
  >;
  delete s.$schema;
  return s;
}

function validate<T>(
  schema: z.ZodType<T>,
  content: string,
): { ok: true; value: T } | { ok: false; problems: string[] } {
  const obj = extractJsonObject(content);
  if (!obj) return { ok: false, problems: ['the answer is not a JSON object'] };
  const parsed = schema.safeParse(obj);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map(
      (i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
    ),
  };
}

export async function chatStructured<T>(req: StructuredRequest<T>): Promise<StructuredResult<T>> {
  const format = jsonSchemaOf(req.schema);
  const messages = [...req.messages];
  const maxRepairs = req.repairs ?? 1;
  let problems: string[] = [];
  let last = '';
  for (let round = 0; round <= maxRepairs; round++) {
    const response = await req.llm.chat({
      model: req.model,
      messages,
      format,
      temperature: req.temperature ?? 0,
      signal: req.signal,
    });
    last = response.message.content;
    const v = validate(req.schema, last);
    if (v.ok) return { value: v.value, response, repairs: round };
    problems = v.problems;
    messages.push(
      { role: 'assistant', content: last },
      {
        role: 'user',
        content: `Your answer does not match the required JSON schema:\n- ${problems.join('\n- ')}\nReply again with only one JSON object that matches this schema, no prose:\n${JSON.stringify(format)}`,
      },
    );
  }
  throw new OperationalError(
    'llm_invalid_output',
    `Model ${req.model} gave no valid answer after ${maxRepairs} repair round(s): ${problems.join('; ')}`,
    { details: { model: req.model, problems, lastAnswer: last.slice(0, 2000) } },
  );
}
