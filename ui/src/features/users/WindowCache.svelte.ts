// The users table's rows, fetched a window at a time: replies to a superseded query are
// dropped, and the cache is reactive, so a component or `$derived` that reads it is redrawn
// when a reply (or a new query) changes what it would read. Unit-tested.

export type Window<R> = { total: number; hidden?: number; offset: number; rows: R[] };
export type Fetcher<R> = (offset: number, limit: number) => Promise<Window<R>>;

/**
 * Rows fetched in fixed-size windows, by offset. `reset` starts a new query (or the same one
 * over changed data): replies to earlier queries are dropped, and until the new query's
 * first reply the old rows stay on show so typing does not flash an empty table.
 *
 * Every reading below (`total`, `row`, `loading`…) depends on [`version`](#version), which
 * goes up when a new query starts and when a reply or a failure arrives; nothing else here
 * is reactive state, so a window of rows costs no proxies.
 */
export class WindowCache<R, T = undefined> {
  readonly size: number;
  #version = $state(0);
  private fetcher: Fetcher<R> | null = null;
  private currentTag: T | undefined = undefined;
  private previousTag: T | undefined = undefined;
  private generation = 0;
  private windows = new Map<number, R[]>();
  private previous: Map<number, R[]> | null = null;
  private previousTotal: number | null = null;
  private inflight = new Set<number>();
  private failedWindows = new Set<number>();
  private currentTotal: number | null = null;
  private currentHidden = 0;
  private lastError: string | null = null;

  constructor(size: number) {
    this.size = Math.max(1, Math.min(500, size));
  }

  /** Goes up on every change a reader could see: read it to redraw on changes. */
  get version(): number {
    return this.#version;
  }

  /**
   * Starts over with `fetcher` (a new query, or new data). `tag` describes the query (say,
   * whether it is filtered); [`tag`](#tag) gives the one whose total is on show.
   */
  reset(fetcher: Fetcher<R>, tag?: T): void {
    this.generation++;
    if (this.windows.size > 0 || this.currentTotal !== null) {
      this.previous = this.windows;
      this.previousTotal = this.currentTotal;
      this.previousTag = this.currentTag;
    }
    this.fetcher = fetcher;
    this.currentTag = tag;
    this.windows = new Map();
    this.inflight = new Set();
    this.failedWindows = new Set();
    this.currentTotal = null;
    this.lastError = null;
    this.#version++;
  }

  /** Fetches again what failed. */
  retry(): void {
    if (this.fetcher) this.reset(this.fetcher, this.currentTag);
  }

  /** The last failure of this query, in words. */
  get error(): string | null {
    void this.#version;
    return this.lastError;
  }

  /** The tag of the query whose [`total`](#total) is on show. */
  get tag(): T | undefined {
    void this.#version;
    return this.currentTotal !== null ? this.currentTag : this.previousTag;
  }

  /** The matching count: this query's, else the last one's while this one loads. */
  get total(): number | null {
    void this.#version;
    return this.currentTotal ?? this.previousTotal;
  }

  /** How many more users match but are left out (deactivated), as the last answer said. */
  get hidden(): number {
    void this.#version;
    return this.currentHidden;
  }

  /** Whether this query has answered at all. */
  get settled(): boolean {
    void this.#version;
    return this.currentTotal !== null;
  }

  get loading(): boolean {
    void this.#version;
    return this.inflight.size > 0;
  }

  row(index: number): R | undefined {
    void this.#version;
    const w = Math.floor(index / this.size);
    const found = this.windows.get(w) ?? this.previous?.get(w);
    return found?.[index - w * this.size];
  }

  /** Whether the rows `first..=last` are all fetched for this query. */
  has(first: number, last: number): boolean {
    void this.#version;
    for (let w = Math.floor(first / this.size); w <= Math.floor(last / this.size); w++) {
      if (!this.windows.has(w)) return false;
    }
    return true;
  }

  /** Fetches the windows covering rows `first..=last` that are neither held nor on their way. */
  ensure(first: number, last: number): void {
    if (!this.fetcher) return;
    const total = this.currentTotal;
    const lo = Math.max(0, first);
    let hi = Math.max(lo, last);
    if (total !== null) {
      if (total === 0) return;
      hi = Math.min(hi, total - 1);
      if (lo > hi) return;
    }
    for (let w = Math.floor(lo / this.size); w <= Math.floor(hi / this.size); w++) {
      if (this.windows.has(w) || this.inflight.has(w) || this.failedWindows.has(w)) continue;
      void this.load(w);
    }
  }

  /** The rows `first..=last`, fetching what is missing (for a shift-click range). */
  async rows(first: number, last: number): Promise<R[]> {
    const generation = this.generation;
    const fetcher = this.fetcher;
    if (!fetcher) return [];
    const out: R[] = [];
    for (let w = Math.floor(first / this.size); w <= Math.floor(last / this.size); w++) {
      let rows = this.windows.get(w);
      if (!rows) {
        const got = await fetcher(w * this.size, this.size);
        if (generation !== this.generation) return [];
        rows = got.rows;
        this.store(w, got);
      }
      const start = w * this.size;
      for (let i = Math.max(first, start); i <= Math.min(last, start + rows.length - 1); i++) out.push(rows[i - start]);
    }
    return out;
  }

  private store(w: number, got: Window<R>): void {
    this.windows.set(w, got.rows);
    this.currentTotal = got.total;
    this.currentHidden = got.hidden ?? 0;
    this.previous = null;
    this.previousTotal = null;
  }

  private async load(w: number): Promise<void> {
    const generation = this.generation;
    const fetcher = this.fetcher;
    if (!fetcher) return;
    this.inflight.add(w);
    try {
      const got = await fetcher(w * this.size, this.size);
      if (generation !== this.generation) return;
      this.store(w, got);
      this.lastError = null;
    } catch (error) {
      if (generation !== this.generation) return;
      this.failedWindows.add(w);
      this.lastError = error instanceof Error ? error.message : "The users could not be read.";
      // A failed query shows no rows rather than the last query's.
      this.previous = null;
      if (this.currentTotal === null) this.previousTotal = null;
    } finally {
      if (generation === this.generation) {
        this.inflight.delete(w);
        this.#version++;
      }
    }
  }
}
