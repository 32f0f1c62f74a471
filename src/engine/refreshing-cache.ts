// A small read-through cache for lookups on the hot path (a webhook's route,
// its secret). Concurrent misses for one key share one load, so the moment
// an entry expires under load costs one query, not one per waiting request;
// and an entry a little past its time is answered at once while one load
// refreshes it in the background (stale-while-revalidate), so no request
// waits for the database in the common case. Past `staleMs` an entry is not
// served: the caller waits for the load. clear() forgets everything,
// including what loads still in flight would have stored.

export type RefreshingCacheOptions = {
  /** How long an entry is fresh. */
  ttlMs: number;
  /** How long past ttlMs a stale entry may still be answered while it refreshes. @default ttlMs */
  staleMs?: number;
  /** Most entries kept; past it the cache starts over. @default 10000 */
  maxEntries?: number;
  now?: () => number;
};

type Entry<V> = { at: number; value: V };

export class RefreshingCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();
  private generation = 0;
  private readonly staleMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly load: (key: K) => Promise<V>,
    private readonly o: RefreshingCacheOptions,
  ) {
    this.staleMs = o.staleMs ?? o.ttlMs;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  get(key: K): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      const age = this.now() - hit.at;
      if (age < this.o.ttlMs) return Promise.resolve(hit.value);
      if (age < this.o.ttlMs + this.staleMs) {
        // Answer now; a failed refresh leaves the entry to be tried again.
        this.refresh(key).catch(() => {});
        return Promise.resolve(hit.value);
      }
    }
    return this.refresh(key);
  }

  /** Forgets every entry; loads in flight still answer their callers but store nothing. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  private refresh(key: K): Promise<V> {
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const started = this.now();
    const p = this.load(key).then(
      (value) => {
        if (generation === this.generation) {
          this.loading.delete(key);
          if (this.entries.size >= this.maxEntries && !this.entries.has(key)) this.entries.clear();
          this.entries.set(key, { at: started, value });
        }
        return value;
      },
      (err: unknown) => {
        if (generation === this.generation) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, p);
    return p;
  }
}
