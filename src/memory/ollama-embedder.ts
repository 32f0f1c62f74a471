// Embeddings from a model server (Ollama's nomic-embed-text by default).
// nomic-embed-text was trained with task prefixes, so documents get
// "search_document: " and queries "search_query: ". Ollama runs it with a
// 2,048-token context: longer texts are cut into chunks under that, embedded
// in one batch, and averaged into one unit vector.
import { OperationalError } from '../errors.ts';
import type { LlmProvider } from '../llm/provider.ts';
import type { EmbedOptions, Embedder } from './embedder.ts';
import { l2normalise } from './embedder.ts';

export type OllamaEmbedderOptions = {
  llm: LlmProvider;
  /** @default "nomic-embed-text" */
  model?: string;
  /** @default 768 */
  dimension?: number;
  /** Most tokens per chunk, prefix included; estimated at 3 characters per token. @default 1800 */
  maxChunkTokens?: number;
  /** Task prefixes; empty strings for models that do not use them. */
  documentPrefix?: string;
  queryPrefix?: string;
};

const charsPerToken = 3; // conservative for logs, paths and hex, which tokenise badly

/** Splits text into pieces of at most maxChars, at line or word breaks when there are any. */
export function chunkText(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    let cut = rest.lastIndexOf('\n', maxChars);
    if (cut < maxChars / 2) cut = rest.lastIndexOf(' ', maxChars);
    if (cut < maxChars / 2) cut = maxChars;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.length > 0) chunks.push(rest);
  return chunks;
}

export class OllamaEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  private readonly llm: LlmProvider;
  private readonly model: string;
  private readonly maxChars: number;
  private readonly docPrefix: string;
  private readonly queryPrefix: string;

  constructor(options: OllamaEmbedderOptions) {
    this.llm = options.llm;
    this.model = options.model ?? 'nomic-embed-text';
    this.dimension = options.dimension ?? 768;
    this.id = `ollama:${this.model}`;
    this.docPrefix = options.documentPrefix ?? 'search_document: ';
    this.queryPrefix = options.queryPrefix ?? 'search_query: ';
    this.maxChars = (options.maxChunkTokens ?? 1800) * charsPerToken - this.docPrefix.length;
  }

  private async embedChunked(
    texts: string[],
    prefix: string,
    options: EmbedOptions,
  ): Promise<number[][]> {
    const owners: number[] = [];
    const inputs: string[] = [];
    texts.forEach((t, i) => {
      for (const c of chunkText(t, this.maxChars)) {
        owners.push(i);
        inputs.push(prefix + c);
      }
    });
    const res = await this.llm.embed({ model: this.model, input: inputs, signal: options.signal });
    const sums = texts.map(() => new Array<number>(this.dimension).fill(0));
    res.embeddings.forEach((e, k) => {
      if (e.length !== this.dimension)
        throw new OperationalError(
          'embedding_dimension',
          `Model ${this.model} returned ${e.length}-dimensional vectors; Warden expects ${this.dimension}. Set the right model (LLM_MODEL_EMBEDDING) or reindex`,
        );
      const sum = sums[owners[k]!]!;
      for (let d = 0; d < e.length; d++) sum[d]! += e[d]!;
    });
    return sums.map(l2normalise);
  }

  embedDocuments(texts: string[], options: EmbedOptions = {}): Promise<number[][]> {
    return this.embedChunked(texts, this.docPrefix, options);
  }

  async embedQuery(text: string, options: EmbedOptions = {}): Promise<number[]> {
    return (await this.embedChunked([text], this.queryPrefix, options))[0]!;
  }
}
