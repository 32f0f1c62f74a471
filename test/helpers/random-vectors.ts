// Deterministic random unit vectors for vector-store tests and benches.

/** mulberry32: a small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomUnitVectors(n: number, dim: number, seed = 1): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    // Sum of uniforms is close enough to Gaussian for direction sampling.
    const v = Array.from({ length: dim }, () => r() + r() + r() - 1.5);
    const len = Math.hypot(...v);
    return v.map((x) => x / len);
  });
}

/** Exact top-k ids by dot product. */
export function exactTopK(vectors: number[][], q: number[], k: number): number[] {
  const scored = vectors.map((v, i) => {
    let s = 0;
    for (let d = 0; d < v.length; d++) s += v[d]! * q[d]!;
    return [i, s] as const;
  });
  scored.sort((a, b) => b[1] - a[1]);
  return scored.slice(0, k).map(([i]) => i);
}
