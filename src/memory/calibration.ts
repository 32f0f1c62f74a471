// Turns the raw hybrid score of a match into a calibrated one: an estimate of
// the probability that the past incident is the same problem as the alert.
// Raw scores mean different things per embedder (hashed words rarely reach a
// cosine of 0.6 for a paraphrase; neural embeddings rarely fall under 0.5),
// so each embedder family has its own logistic curve, fitted on a labelled
// corpus (test/fixtures/incident-corpus.ts). A threshold of 0.85 then means
// "among corpus matches scoring at least this, about 85% or more were right".

export type Calibration = {
  /** calibrated = 1 / (1 + exp(-(a * raw + b))) */
  a: number;
  b: number;
  /** Where a and b come from, shown by `warden doctor` and the README. */
  source: string;
};

/**
 * Per embedder family (the id's prefix before ':' or '-v').
 * lexical: fitted by test/incident-memory.integration.test.ts on the corpus
 * (top-5 candidates of 72 paraphrased alerts and 8 novel ones).
 */
export const calibrations: Record<string, Calibration> = {
  lexical: {
    a: 26.5,
    b: -7.7,
    source: 'fitted on the 36-incident test corpus with the lexical embedder',
  },
  // No neural model can run where Warden is built and tested. Until fitted on
  // real data, this curve maps the raw score so that 0.85 needs a raw score
  // of 0.80 (a strong cosine with most query words present). It is a prior,
  // not a measurement.
  ollama: {
    a: 20,
    b: -14.3,
    source: 'prior, not fitted: no embedding model was available to calibrate against',
  },
};

export function calibrationFor(embedderId: string): Calibration {
  const family = embedderId.split(/[:-]/)[0] ?? embedderId;
  return calibrations[family] ?? calibrations.ollama!;
}

export function calibrate(raw: number, c: Calibration): number {
  return 1 / (1 + Math.exp(-(c.a * raw + c.b)));
}

/** The raw score at which the calibrated score equals p. */
export function rawFor(p: number, c: Calibration): number {
  return (Math.log(p / (1 - p)) - c.b) / c.a;
}

/** Fits a and b by logistic regression (gradient descent) on labelled raw scores. */
export function fitCalibration(
  samples: Array<{ raw: number; match: boolean }>,
  iterations = 20_000,
): Omit<Calibration, 'source'> {
  let a = 1;
  let b = 0;
  const lr = 0.5;
  for (let i = 0; i < iterations; i++) {
    let ga = 0;
    let gb = 0;
    let wsum = 0;
    for (const s of samples) {
      // Unweighted: the samples are the candidates a search really shows, so the
      // fitted curve estimates the share of right matches at each score.
      const w = 1;
      const p = 1 / (1 + Math.exp(-(a * s.raw + b)));
      const err = p - (s.match ? 1 : 0);
      ga += w * err * s.raw;
      gb += w * err;
      wsum += w;
    }
    a -= (lr * ga * 10) / wsum;
    b -= (lr * gb * 10) / wsum;
  }
  return { a: Math.round(a * 10) / 10, b: Math.round(b * 10) / 10 };
}
