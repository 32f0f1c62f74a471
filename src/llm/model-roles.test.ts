import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { loadConfig } from '../config/load.ts';

import { rolesInUse } from './model-roles.ts';

const config = (embedder: string) =>
  loadConfig({ env: { MEMORY_EMBEDDER: embedder }, cwd: tmpdir() });

describe('roles in use', () => {
  it('requires the embedding model only with the Ollama embedder, and never vision (unused)', () => {
    expect(rolesInUse(config('lexical'))).toEqual(['orchestrator', 'reasoning', 'validator']);
    expect(rolesInUse(config('ollama'))).toEqual([
      'orchestrator',
      'reasoning',
      'embedding',
      'validator',
    ]);
  });
});
