// Incident memory: past resolutions, found again for a new alert. Retrieval
// is hybrid: cosine similarity of embeddings (VectorStore) plus an IDF-
// weighted share of the alert's words found by PostgreSQL full-text search,
// so the offline lexical embedder retrieves well too. The score compared with
// the threshold (0.85 by default) is calibrated per embedder (calibration.ts).
// A fix that failed verification is never offered for automatic use again.
// Each fix keeps the evidence that identified its cause (log templates and
// precondition probes); whether that evidence holds is decided in healing/.
import type { Db } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { Calibration } from './calibration.ts';
import { calibrate, calibrationFor } from './calibration.ts';
import type { Embedder, EmbedOptions } from './embedder.ts';
import type { SearchHit, VectorStore } from './vector-store.ts';

export type Outcome = 'resolved' | 'partial' | 'failed' | 'unknown';

/**
 * A catalogue `read` action whose output confirms the cause: the output must
 * hold `expect` (a log template, variables masked, or plain words).
 */
export type Probe = { action: string; parameters: Record<string, unknown>; expect: string };

export type Resolution = {
  title: string;
  symptoms?: string;
  service?: string;
  logExcerpt?: string;
  rootCause?: string;
  /** The fix as a catalogue action with its parameters. */
  fix?: { action: string; parameters: Record<string, unknown> };
  outcome: Outcome;
  /** The fix's verify probe passed. */
  verified?: boolean;
  /** Log templates (variables masked) that identified the cause. */
  evidence?: string[];
  /** Read-only probes whose output confirms the cause. */
  probes?: Probe[];
};

/** What an operator may change of a remembered fix. */
export type MemoryEdit = {
  title?: string;
  rootCause?: string;
  fix?: { action: string; parameters: Record<string, unknown> };
  evidence?: string[];
  probes?: Probe[];
  /** A disabled fix is shown but never nominated. */
  disabled?: boolean;
};

export type StoredIncident = Required<Omit<Resolution, 'fix' | 'service'>> & {
  id: string;
  disabled: boolean;
  service: string | null;
  fix: Resolution['fix'] | null;
  /** The fix failed verification once: never applied automatically again. */
  fixBlocked: boolean;
  successCount: number;
  failureCount: number;
  createdAt: Date;
};

export type SimilarIncident = {
  incident: StoredIncident;
  /** Calibrated score in [0, 1], the one the threshold is compared with. */
  score: number;
  /** Cosine similarity of the embeddings, clamped to [0, 1]. */
  vectorScore: number;
  /** IDF-weighted share of the alert's words found in the incident. */
  textScore: number;
  /** (vectorScore + textScore) / 2, before calibration. */
  rawScore: number;
  /** Whether its fix may run without a second opinion or a human. */
  autoApply: boolean;
  /** Why not, when autoApply is false. */
  reason?: string;
};

export type IncidentMemoryOptions = {
  db: Db;
  store: VectorStore;
  embedder: Embedder;
  /** Calibrated score a match needs for its fix to be reused automatically. @default 0.85 */
  threshold?: number;
  /** @default calibrationFor(embedder.id) */
  calibration?: Calibration;
  /** @default "incidents" */
  collection?: string;
};

export type SearchOptions = EmbedOptions & {
  /** @default 3 */
  topK?: number;
  /**
   * Only incidents of this service. The service's name is then taken out of
   * the alert's text: every candidate shares it, so it would only make any
   * problem of the service look like any other.
   */
  service?: string;
};

/** The text with every whole-word occurrence of the name blanked out. */
export function withoutName(text: string, name: string): string {
  const n = name.trim();
  if (!n) return text;
  const escaped = n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'giu'), ' ');
}

type Row = {
  id: string;
  title: string;
  symptoms: string;
  service: string | null;
  log_excerpt: string;
  root_cause: string;
  fix_action: string | null;
  fix_parameters: Record<string, unknown>;
  outcome: Outcome;
  verified: boolean;
  fix_blocked: boolean;
  success_count: number;
  failure_count: number;
  created_at: Date;
  evidence: string[];
  probes: Probe[];
  disabled: boolean;
};

const columns = `id::text AS id, title, symptoms, service, log_excerpt, root_cause, fix_action, fix_parameters,
  outcome, verified, fix_blocked, success_count, failure_count, created_at, evidence, probes, disabled`;

function toIncident(r: Row): StoredIncident {
  return {
    id: r.id,
    title: r.title,
    symptoms: r.symptoms,
    service: r.service,
    logExcerpt: r.log_excerpt,
    rootCause: r.root_cause,
    fix: r.fix_action ? { action: r.fix_action, parameters: r.fix_parameters } : null,
    outcome: r.outcome,
    verified: r.verified,
    fixBlocked: r.fix_blocked,
    successCount: r.success_count,
    failureCount: r.failure_count,
    createdAt: r.created_at,
    evidence: r.evidence,
    probes: r.probes,
    disabled: r.disabled,
  };
}

/** The text an incident is embedded and found by. */
export function documentText(
  r: Pick<Resolution, 'title' | 'symptoms' | 'service' | 'rootCause' | 'logExcerpt'>,
): string {
  return [r.title, r.symptoms, r.service ? `service ${r.service}` : '', r.rootCause, r.logExcerpt]
    .filter((x) => x && x.length > 0)
    .join('\n');
}

const candidates = 20;

export class IncidentMemory {
  readonly threshold: number;
  readonly calibration: Calibration;
  readonly collection: string;
  private readonly db: Db;
  private readonly store: VectorStore;
  readonly embedder: Embedder;
  private ready = false;

  constructor(options: IncidentMemoryOptions) {
    this.db = options.db;
    this.store = options.store;
    this.embedder = options.embedder;
    this.threshold = options.threshold ?? 0.85;
    this.calibration = options.calibration ?? calibrationFor(options.embedder.id);
    this.collection = options.collection ?? 'incidents';
  }

  private spec() {
    return {
      name: this.collection,
      dimension: this.embedder.dimension,
      embedder: this.embedder.id,
      indexedKeys: ['service'],
    };
  }

  /** Checks, once, that stored vectors come from the configured embedder. */
  private async ensureReady(): Promise<void> {
    if (this.ready) return;
    await this.store.ensureCollection(this.spec());
    const { rows } = await this.db.query<{ embedder: string; n: number }>(
      'SELECT embedder, count(*)::int AS n FROM memory_incidents WHERE embedder IS NOT NULL AND embedder <> $1 GROUP BY embedder',
      [this.embedder.id],
    );
    if (rows.length > 0)
      throw new UserError(
        'embedder_mismatch',
        `Incident memory holds vectors of ${rows.map((r) => `${r.embedder} (${r.n})`).join(', ')}, but the configured embedder is ${this.embedder.id}; vectors of different embedders cannot be compared. Run \`warden memory reindex\``,
        { status: 409 },
      );
    this.ready = true;
  }

  async remember(r: Resolution, options: EmbedOptions = {}): Promise<StoredIncident> {
    if (!r.title.trim()) throw new UserError('invalid_incident', 'An incident needs a title');
    await this.ensureReady();
    const [vector] = await this.embedder.embedDocuments([documentText(r)], options);
    const { rows } = await this.db.query<Row>(
      `INSERT INTO memory_incidents (title, symptoms, service, log_excerpt, root_cause, fix_action, fix_parameters,
         outcome, verified, success_count, evidence, probes)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, $12::jsonb) RETURNING ${columns}`,
      [
        r.title,
        r.symptoms ?? '',
        r.service ?? null,
        r.logExcerpt ?? '',
        r.rootCause ?? '',
        r.fix?.action ?? null,
        JSON.stringify(r.fix?.parameters ?? {}),
        r.outcome,
        r.verified ?? false,
        r.verified ? 1 : 0,
        JSON.stringify(r.evidence ?? []),
        JSON.stringify(r.probes ?? []),
      ],
    );
    const incident = toIncident(rows[0]!);
    await this.embed(incident, vector!);
    return incident;
  }

  private async embed(incident: StoredIncident, vector: number[]): Promise<void> {
    await this.store.upsert(this.collection, [
      { id: incident.id, vector, payload: { service: incident.service ?? '' } },
    ]);
    // Marked embedded only once the vector is stored: a failed upsert leaves
    // the incident counted as stale, and `warden memory reindex` repairs it.
    await this.db.query(
      'UPDATE memory_incidents SET embedder = $1, embedding_dim = $2 WHERE id = $3::bigint',
      [this.embedder.id, this.embedder.dimension, incident.id],
    );
  }

  /** An operator's correction of a remembered fix; the words it is found by are re-embedded. */
  async edit(id: string, e: MemoryEdit, options: EmbedOptions = {}): Promise<StoredIncident> {
    await this.ensureReady();
    const before = await this.get(id);
    if (e.title !== undefined && !e.title.trim())
      throw new UserError('invalid_incident', 'An incident needs a title');
    const { rows } = await this.db.query<Row>(
      `UPDATE memory_incidents SET
         title = coalesce($2, title), root_cause = coalesce($3, root_cause),
         fix_action = coalesce($4, fix_action), fix_parameters = coalesce($5::jsonb, fix_parameters),
         evidence = coalesce($6::jsonb, evidence), probes = coalesce($7::jsonb, probes),
         disabled = coalesce($8, disabled),
         -- A corrected fix is a new fix: the block of the old one does not carry over.
         fix_blocked = CASE WHEN $4::text IS NOT NULL AND $4 IS DISTINCT FROM fix_action
                             OR $5::jsonb IS NOT NULL AND $5::jsonb IS DISTINCT FROM fix_parameters
                            THEN false ELSE fix_blocked END,
         updated_at = now()
       WHERE id = $1::bigint RETURNING ${columns}`,
      [
        id,
        e.title ?? null,
        e.rootCause ?? null,
        e.fix?.action ?? null,
        e.fix ? JSON.stringify(e.fix.parameters) : null,
        e.evidence ? JSON.stringify(e.evidence) : null,
        e.probes ? JSON.stringify(e.probes) : null,
        e.disabled ?? null,
      ],
    );
    const after = toIncident(rows[0]!);
    if (after.title !== before.title || after.rootCause !== before.rootCause) {
      const [vector] = await this.embedder.embedDocuments(
        [documentText({ ...after, service: after.service ?? undefined })],
        options,
      );
      await this.embed(after, vector!);
    }
    return after;
  }

  /**
   * The evidence of every enabled fix of a service: what tells its causes
   * apart. Capped; a service with more remembered causes than this is
   * checked against its newest ones.
   */
  async evidenceOf(
    service: string | null,
  ): Promise<Array<Pick<StoredIncident, 'id' | 'fix' | 'evidence' | 'rootCause'>>> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${columns} FROM memory_incidents
        WHERE service IS NOT DISTINCT FROM $1 AND NOT disabled AND fix_action IS NOT NULL
          AND jsonb_array_length(evidence) > 0
        ORDER BY id DESC LIMIT 500`,
      [service],
    );
    return rows.map(toIncident);
  }

  async get(id: string): Promise<StoredIncident> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${columns} FROM memory_incidents WHERE id = $1::bigint`,
      [id],
    );
    if (!rows[0]) throw notFound('Incident', id);
    return toIncident(rows[0]);
  }

  /** Stored incidents, newest first. */
  async list(
    options: { service?: string; limit?: number; offset?: number; beforeId?: string } = {},
  ): Promise<StoredIncident[]> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${columns} FROM memory_incidents WHERE ($1::text IS NULL OR service = $1)
          AND ($4::bigint IS NULL OR id < $4::bigint)
        ORDER BY id DESC LIMIT $2 OFFSET $3`,
      [
        options.service ?? null,
        Math.min(options.limit ?? 100, 1001),
        options.offset ?? 0,
        options.beforeId ?? null,
      ],
    );
    return rows.map(toIncident);
  }

  /** Forgets an incident: its row, its feedback and its vector. */
  async forget(id: string): Promise<void> {
    await this.ensureReady();
    await this.get(id);
    await this.store.delete(this.collection, [id]);
    // Its feedback goes with it (ON DELETE CASCADE).
    await this.db.query('DELETE FROM memory_incidents WHERE id = $1::bigint', [id]);
  }

  /**
   * Records whether a reused fix passed its verify probe. A failure blocks the
   * fix from automatic use for good; a later success does not unblock it.
   */
  async feedback(
    id: string,
    result: { verified: boolean; note?: string },
  ): Promise<StoredIncident> {
    await this.get(id);
    await this.db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO memory_feedback (incident_id, verified, note) VALUES ($1::bigint, $2, $3)',
        [id, result.verified, result.note ?? ''],
      );
      await tx.query(
        result.verified
          ? 'UPDATE memory_incidents SET success_count = success_count + 1, updated_at = now() WHERE id = $1::bigint'
          : 'UPDATE memory_incidents SET failure_count = failure_count + 1, fix_blocked = true, updated_at = now() WHERE id = $1::bigint',
        [id],
      );
    });
    return this.get(id);
  }

  /**
   * IDF-weighted share of the query's lexemes in each candidate, and the best
   * text candidates. Each lexeme's rows come from the GIN index and are summed
   * per incident, so the cost follows the query's postings, not the corpus.
   */
  private async textScores(text: string, service: string | undefined) {
    const { rows } = await this.db.query<{ id: string; score: number }>(
      `WITH q AS (
         SELECT DISTINCT lexeme, quote_literal(lexeme)::tsquery AS tq
         FROM unnest(to_tsvector('english', $1)) AS u(lexeme, positions, weights)
       ), n AS (SELECT greatest(incidents, 1)::float8 AS total FROM memory_corpus),
       idf AS (
         SELECT q.tq, ln(1 + n.total / (1 + (SELECT count(*) FROM memory_incidents m
                  WHERE m.search_tsv @@ q.tq))) AS w
         FROM q, n
       ), total AS (SELECT sum(w) AS s FROM idf)
       SELECT m.id::text AS id, sum(idf.w) / min(total.s) AS score
       FROM idf
       JOIN memory_incidents m ON m.search_tsv @@ idf.tq
       CROSS JOIN total
       WHERE total.s > 0 AND ($2::text IS NULL OR m.service = $2)
       GROUP BY m.id
       ORDER BY score DESC, m.id
       LIMIT ${candidates}`,
      [text, service ?? null],
    );
    return new Map(rows.map((r) => [r.id, Number(r.score)]));
  }

  /** The past incidents most like the alert, best first, with calibrated scores. */
  async similar(alertText: string, options: SearchOptions = {}): Promise<SimilarIncident[]> {
    await this.ensureReady();
    const topK = options.topK ?? 3;
    const text = options.service ? withoutName(alertText, options.service) : alertText;
    const vector = await this.embedder.embedQuery(text, options);
    // A text with no features (only stopwords or symbols) embeds to the zero
    // vector, whose cosine is undefined: it matches nothing by similarity.
    const hasFeatures = vector.some((x) => x !== 0);
    const filter = options.service ? { service: options.service } : undefined;
    const [vectorHits, text_] = await Promise.all([
      hasFeatures
        ? this.store.search(this.collection, { vector, topK: candidates, filter })
        : Promise.resolve([]),
      this.textScores(text, options.service),
    ]);
    const vectorScore = new Map(vectorHits.map((h) => [h.id, h.score]));
    // Text-only candidates still need their cosine: score exactly those ids.
    const missing = [...text_.keys()].filter((id) => !vectorScore.has(id));
    if (hasFeatures && missing.length > 0) {
      const extra: SearchHit[] = await this.store.search(this.collection, {
        vector,
        topK: missing.length,
        ids: missing,
      });
      for (const h of extra) vectorScore.set(h.id, h.score);
    }
    const ids = new Set([...vectorScore.keys(), ...text_.keys()]);
    const ranked = [...ids]
      .map((id) => {
        // NaN (a stored zero vector) counts as no similarity.
        const cos = vectorScore.get(id) ?? 0;
        const v = Number.isFinite(cos) ? Math.max(0, Math.min(1, cos)) : 0;
        const t = text_.get(id) ?? 0;
        const raw = (v + t) / 2;
        return { id, v, t, raw };
      })
      .sort((a, b) => b.raw - a.raw || Number(a.id) - Number(b.id))
      .slice(0, topK);
    if (ranked.length === 0) return [];
    const { rows } = await this.db.query<Row>(
      `SELECT ${columns} FROM memory_incidents WHERE id = ANY($1::bigint[])`,
      [ranked.map((r) => r.id)],
    );
    const byId = new Map(rows.map((r) => [r.id, toIncident(r)]));
    return ranked
      .filter((r) => byId.has(r.id))
      .map((r) => {
        const incident = byId.get(r.id)!;
        const score = calibrate(r.raw, this.calibration);
        const reason = this.refusal(incident, score, options.service);
        return {
          incident,
          score,
          vectorScore: r.v,
          textScore: r.t,
          rawScore: r.raw,
          autoApply: reason === undefined,
          ...(reason ? { reason } : {}),
        };
      });
  }

  private refusal(i: StoredIncident, score: number, service?: string): string | undefined {
    if (!i.fix) return 'the incident has no fix';
    if (i.disabled) return 'its fix was disabled by an operator';
    // A fix names its target: another service's fix is never applied here.
    if (service !== undefined && i.service !== service)
      return `it happened on ${i.service ?? 'no named service'}, not on ${service}`;
    if (i.fixBlocked)
      return 'its fix failed verification before; it is never applied automatically again';
    if (i.outcome !== 'resolved') return `its outcome was ${i.outcome}`;
    if (!i.verified) return 'its fix was never verified';
    if (!(score >= this.threshold))
      return `score ${score.toFixed(2)} is under the threshold ${this.threshold} (MEMORY_THRESHOLD)`;
    return undefined;
  }

  async status(): Promise<{
    embedder: string;
    dimension: number;
    store: string;
    incidents: number;
    stale: number;
  }> {
    const { rows } = await this.db.query<{ total: number; stale: number }>(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE embedder IS DISTINCT FROM $1)::int AS stale FROM memory_incidents`,
      [this.embedder.id],
    );
    return {
      embedder: this.embedder.id,
      dimension: this.embedder.dimension,
      store: this.store.kind,
      incidents: rows[0]!.total,
      stale: rows[0]!.stale,
    };
  }

  /**
   * Re-embeds every incident with the configured embedder into a rebuilt
   * collection. Safe to rerun after an interruption.
   */
  async reindex(
    options: EmbedOptions & {
      batchSize?: number;
      onProgress?: (done: number, total: number) => void;
    } = {},
  ): Promise<{ reindexed: number }> {
    const batch = options.batchSize ?? 32;
    await this.store.dropCollection(this.collection);
    await this.store.ensureCollection(this.spec());
    this.ready = false;
    const { rows: c } = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM memory_incidents',
    );
    const total = c[0]!.n;
    let done = 0;
    let after = '0';
    options.onProgress?.(0, total);
    while (true) {
      const { rows } = await this.db.query<Row>(
        `SELECT ${columns} FROM memory_incidents WHERE id > $1::bigint ORDER BY memory_incidents.id LIMIT ${batch}`,
        [after],
      );
      if (rows.length === 0) break;
      const vectors = await this.embedder.embedDocuments(
        rows.map((r) =>
          documentText({
            ...r,
            logExcerpt: r.log_excerpt,
            rootCause: r.root_cause,
            service: r.service ?? undefined,
          }),
        ),
        options,
      );
      await this.store.upsert(
        this.collection,
        rows.map((r, i) => ({
          id: r.id,
          vector: vectors[i]!,
          payload: { service: r.service ?? '' },
        })),
      );
      await this.db.query(
        'UPDATE memory_incidents SET embedder = $1, embedding_dim = $2 WHERE id = ANY($3::bigint[])',
        [this.embedder.id, this.embedder.dimension, rows.map((r) => r.id)],
      );
      done += rows.length;
      after = rows.at(-1)!.id;
      options.onProgress?.(done, total);
    }
    await this.ensureReady();
    return { reindexed: done };
  }
}
