// Groups calls made in the same turn of the event loop into one database
// statement: under load, one INSERT of fifty rows instead of fifty INSERTs.
// A failed batch is retried one item at a time, so one bad item fails alone.

export class MicroBatcher<I, O> {
  private pending: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    /** Largest batch. @default 500 */
    private readonly max = 500,
    /**
     * Batches running at once; more calls wait and join the next batch. A
     * function is asked each time (a database with one connection runs one
     * statement at a time: a second batch sent meanwhile would only wait
     * there, smaller than if it had waited here). @default 4
     */
    private readonly maxInFlight: number | (() => number) = 4,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    const limit = typeof this.maxInFlight === 'number' ? this.maxInFlight : this.maxInFlight();
    if (this.scheduled || this.pending.length === 0 || this.inFlight >= limit) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush() {
    const batch = this.pending.splice(0, this.max);
    if (batch.length === 0) return;
    this.inFlight++;
    this.schedule();
    try {
      const out = await this.runBatch(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else
        await Promise.all(
          batch.map((b) =>
            this.runBatch([b.item]).then(
              (o) => b.resolve(o[0]!),
              (e: unknown) => b.reject(e),
            ),
          ),
        );
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
