// Incident memory settings: which embedder makes vectors, which store keeps
// them, and the similarity a past fix needs to be reused.
import { z } from 'zod';

import { domain, setting } from './setting.ts';

export const memoryDomain = domain('memory', 'Incident memory: embeddings and vector store.', {
  embedder: setting({
    env: 'MEMORY_EMBEDDER',
    schema: z.enum(['lexical', 'ollama']),
    default: 'lexical',
    doc: "Embedder: 'lexical' (built in, feature hashing, nothing to download) or 'ollama' (the embedding role's model). Changing it needs `warden memory reindex`.",
  }),
  store: setting({
    env: 'MEMORY_STORE',
    schema: z.enum(['auto', 'pgvector', 'qdrant', 'postgres-exact']),
    default: 'auto',
    doc: "Vector store: 'auto' (Qdrant when QDRANT_URL is set, else pgvector when the database has it, else exact scan in PostgreSQL), or one of them by name.",
  }),
  qdrantUrl: setting({
    env: 'QDRANT_URL',
    schema: z.string().url().optional(),
    doc: 'Qdrant server URL. Set: vectors live in Qdrant (with MEMORY_STORE=auto).',
  }),
  qdrantApiKey: setting({
    env: 'QDRANT_API_KEY',
    schema: z.string().min(1).optional(),
    secret: true,
    doc: 'API key for Qdrant.',
  }),
  qdrantCollection: setting({
    env: 'QDRANT_COLLECTION',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .min(1),
    default: 'warden_incidents',
    doc: 'Qdrant collection prefix; the embedder and dimension are appended.',
  }),
  threshold: setting({
    env: 'MEMORY_THRESHOLD',
    schema: z.coerce.number().min(0).max(1),
    default: 0.85,
    doc: 'Calibrated match score (0..1, see docs/models-and-memory.md, "Incident memory") a past incident needs for its fix to be reused automatically.',
  }),
});
