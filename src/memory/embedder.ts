// The Embedder port: text in, unit-length vectors out. Documents and queries
// are embedded separately because some models (nomic-embed-text) want a
// different prefix for each. `id` and `dimension` travel with every vector
// stored, so vectors of two embedders are never compared.

export type EmbedOptions = { signal?: AbortSignal };

export interface Embedder {
  /** Stable name of the embedder and its settings, e.g. "lexical-v1" or "ollama:nomic-embed-text". */
  readonly id: string;
  readonly dimension: number;
  embedDocuments(texts: string[], options?: EmbedOptions): Promise<number[][]>;
  embedQuery(text: string, options?: EmbedOptions): Promise<number[]>;
}

export function l2normalise(v: number[]): number[] {
  let sum = 0;
  for (const x of v) sum += x * x;
  const n = Math.sqrt(sum);
  return n === 0 ? v : v.map((x) => x / n);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
