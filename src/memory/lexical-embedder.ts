// The built-in, offline embedder: feature hashing of words, word pairs and
// character n-grams into a fixed-size vector, L2-normalised. Nothing to
// download; similar wording gives similar vectors, different wording for the
// same problem much less so (hybrid retrieval makes up part of that).
// Changing anything here changes vectors: bump `version`, which is in `id`.
import type { Embedder } from './embedder.ts';
import { l2normalise } from './embedder.ts';

export type LexicalEmbedderOptions = {
  /** Vector size. @default 1024 */
  dimension?: number;
};

const stopwords = new Set(
  'a an and are as at be been but by for from has have in into is it its of on or that the this to was were will with after before over under than then there these those when while which who what why how all any can could should would our your their i we you he she they them via per not no'.split(
    ' ',
  ),
);

/**
 * Generic operations vocabulary: words that mean the same thing in alerts,
 * mapped to one form. Kept to common, unambiguous synonyms.
 */
const synonyms: Record<string, string> = {
  ram: 'memory',
  mem: 'memory',
  oom: 'memory',
  oomkilled: 'memory',
  storage: 'disk',
  filesystem: 'disk',
  fs: 'disk',
  volume: 'disk',
  partition: 'disk',
  space: 'disk',
  cpu: 'cpu',
  processor: 'cpu',
  db: 'database',
  postgres: 'postgresql',
  pg: 'postgresql',
  psql: 'postgresql',
  cert: 'certificate',
  certs: 'certificate',
  tls: 'certificate',
  ssl: 'certificate',
  latency: 'slow',
  sluggish: 'slow',
  timeout: 'slow',
  timeouts: 'slow',
  down: 'unavailable',
  unreachable: 'unavailable',
  offline: 'unavailable',
  dead: 'unavailable',
  crashed: 'crash',
  crashing: 'crash',
  crashes: 'crash',
  restarting: 'restart',
  restarts: 'restart',
  rebooted: 'restart',
  err: 'error',
  errors: 'error',
  failing: 'fail',
  failed: 'fail',
  failure: 'fail',
  failures: 'fail',
  full: 'exhausted',
  exhausted: 'exhausted',
  '5xx': '500',
  '502': '500',
  '503': '500',
  '504': '500',
  conn: 'connection',
  connections: 'connection',
  k8s: 'kubernetes',
  pods: 'pod',
  containers: 'container',
  queue: 'queue',
  backlog: 'queue',
  lag: 'queue',
  replica: 'replication',
  replicas: 'replication',
};

/** Crude English suffix stripping, enough to meet "restarted" with "restart". */
function stem(w: string): string {
  if (w.length <= 4) return w;
  for (const suf of ['ations', 'ation', 'ings', 'ing', 'edly', 'ed', 'ies', 'es', 's', 'ly']) {
    if (w.endsWith(suf) && w.length - suf.length >= 3) {
      const base = w.slice(0, -suf.length);
      return suf === 'ies' ? `${base}y` : base;
    }
  }
  return w;
}

export function lexicalTokens(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z0-9]+(?:[._-][a-z0-9]+)*/g) ?? [];
  const out: string[] = [];
  for (const raw of words) {
    // Split dotted and dashed names too (nginx.service, web-1), keeping the whole.
    const parts =
      raw.includes('.') || raw.includes('-') || raw.includes('_')
        ? [raw, ...raw.split(/[._-]/)]
        : [raw];
    for (const p of parts) {
      if (p.length < 2 || stopwords.has(p) || (/^\d+$/.test(p) && p.length > 4)) continue;
      out.push(synonyms[p] ?? stem(p));
    }
  }
  return out;
}

/** FNV-1a, 32-bit. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class LexicalEmbedder implements Embedder {
  static readonly version = 1;
  readonly id: string;
  readonly dimension: number;

  constructor(options: LexicalEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 1024;
    this.id = `lexical-v${LexicalEmbedder.version}-${this.dimension}`;
  }

  private add(v: number[], feature: string, weight: number) {
    const h = hash(feature);
    // One hash gives the slot, a second bit the sign, so collisions cancel out on average.
    v[h % this.dimension]! += (h & 0x80000000 ? -1 : 1) * weight;
  }

  embed(text: string): number[] {
    const v = new Array<number>(this.dimension).fill(0);
    const tokens = lexicalTokens(text);
    const counts = new Map<string, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, n] of counts) {
      // Sublinear term frequency: a word said five times is not five times the evidence.
      const tf = 1 + Math.log(n);
      this.add(v, `w:${t}`, tf);
      const padded = `<${t}>`;
      if (padded.length > 5)
        for (let i = 0; i + 4 <= padded.length; i++)
          this.add(v, `c:${padded.slice(i, i + 4)}`, (0.6 * tf) / (padded.length - 3));
    }
    for (let i = 0; i + 1 < tokens.length; i++) this.add(v, `b:${tokens[i]}_${tokens[i + 1]}`, 0.5);
    return l2normalise(v);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.embed(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.embed(text);
  }
}
