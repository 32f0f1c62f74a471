import { describe, expect, it } from 'vitest';

import { calibrate, calibrationFor, rawFor } from './calibration.ts';
import { dot } from './embedder.ts';
import { LexicalEmbedder, lexicalTokens } from './lexical-embedder.ts';

describe('LexicalEmbedder', () => {
  const e = new LexicalEmbedder();

  it('makes unit vectors of its dimension, the same for the same text', async () => {
    const [a, b] = await e.embedDocuments(['Disk full on web-1', 'Disk full on web-1']);
    expect(a).toHaveLength(1024);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 10);
    expect(a).toEqual(b);
    expect(e.id).toBe('lexical-v1-1024');
  });

  it('puts reworded texts about one problem closer than texts about another', async () => {
    const q = await e.embedQuery('nginx restarting, upstream connection refused');
    const [same, other] = await e.embedDocuments([
      'nginx restarted: connect() failed, connection refused while connecting to upstream',
      'PostgreSQL replica lagging behind primary',
    ]);
    expect(dot(q, same!)).toBeGreaterThan(dot(q, other!) + 0.2);
  });

  it('normalises words: stems, synonyms, dotted names', () => {
    expect(lexicalTokens('Restarting nginx.service, OOM on the db')).toEqual([
      'restart',
      'nginx.service',
      'nginx',
      'service',
      'memory',
      'database',
    ]);
  });
});

describe('calibration', () => {
  it('maps the raw score through the embedder family curve and back', () => {
    const c = calibrationFor('lexical-v1-1024');
    expect(c).toBe(calibrationFor('lexical-v9-256'));
    expect(calibrate(rawFor(0.85, c), c)).toBeCloseTo(0.85, 10);
    expect(calibrationFor('ollama:nomic-embed-text').source).toContain('not fitted');
  });
});
