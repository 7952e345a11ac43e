// The users table's logic without the screen: filters and the chips that set them, the
// query sent to `searchUsers`, a cache of fetched windows that drops stale replies, and
// the selection (some rows, or everything matching). Pure, unit-tested.
import type { commands, Facets, FacetValue, UserQuery } from "./bindings";

/** What a command gives back when it works. */
export type Data<F extends (...args: never[]) => Promise<unknown>> = Extract<Awaited<ReturnType<F>>, { status: "ok" }> extends { data: infer D } ? D : never;

/** One row of the users table, as `searchUsers` sends it. */
export type Row = Data<typeof commands.searchUsers>["rows"][number];

export type Filters = {
  text: string;
  roles: string[];
  licences: string[];
  statuses: string[];
  branches: string[];
  zones: string[];
  securityGroups: string[];
  signInMethods: string[];
  invitationStates: string[];
  noSignInForDays: number | null;
  /** Deactivated users are left out of the list until asked for (as the shop tool does). */
  showDeactivated: boolean;
};

export type ListKey = Exclude<keyof Filters, "text" | "noSignInForDays" | "showDeactivated">;

export function emptyFilters(): Filters {
  return {
    text: "",
    roles: [],
    licences: [],
    statuses: [],
    branches: [],
    zones: [],
    securityGroups: [],
    signInMethods: [],
    invitationStates: [],
    noSignInForDays: null,
    showDeactivated: false,
  };
}

/** One group of filter chips: its `data-testid` name, the facet it counts from and the
 * filter list it sets. */
export type FacetGroup = {
  facet: string;
  title: string;
  source: keyof Facets;
  list: ListKey;
  /** Values always offered (with a zero count when nobody holds them). */
  fixed?: readonly string[];
  /** Only these values are offered. */
  only?: readonly string[];
  /** A shop field: offered only where the provider has Muster's shop extension. */
  shop?: boolean;
};

export const FACET_GROUPS: readonly FacetGroup[] = [
  { facet: "status", title: "Status", source: "statuses", list: "statuses", fixed: ["active", "invited", "suspended", "deactivated"] },
  { facet: "role", title: "Role", source: "roles", list: "roles", shop: true },
  { facet: "licence", title: "Licence", source: "licences", list: "licences", shop: true },
  { facet: "invitation", title: "Invitation", source: "invitationStates", list: "invitationStates", fixed: ["pending", "expired"], only: ["pending", "expired"], shop: true },
  { facet: "branch", title: "Branch", source: "branches", list: "branches", shop: true },
  { facet: "zone", title: "Zone", source: "zones", list: "zones", shop: true },
  { facet: "securityGroup", title: "Security group", source: "securityGroups", list: "securityGroups", shop: true },
  { facet: "signInMethod", title: "Last sign-in method", source: "signInMethods", list: "signInMethods", shop: true },
];

/** The statuses SCIM itself can say (`active`), for a provider without the shop extension. */
export const SCIM_STATUSES: readonly string[] = ["active", "deactivated"];

export const DORMANT_DAYS: readonly number[] = [30, 60, 90];

/** The dormant chips: the usual thresholds, and one chosen elsewhere (the review screen)
 * so that it shows, on, and can be cleared. */
export function dormantChoices(filters: Filters): number[] {
  const days = filters.noSignInForDays;
  const choices = [...DORMANT_DAYS];
  if (days !== null && !choices.includes(days)) choices.push(days);
  return choices.sort((a, b) => a - b);
}

/** The chips of one group: the facet's values (plus the fixed ones, and any value still
 * filtered on), fixed values first, then by count. */
export function chipValues(group: FacetGroup, facets: Facets | null, filters: Filters): FacetValue[] {
  const counts = new Map<string, number>();
  for (const v of facets?.[group.source] ?? []) counts.set(v.value, v.count);
  const order: string[] = [];
  const add = (value: string) => {
    if (!order.includes(value) && (!group.only || group.only.includes(value))) order.push(value);
  };
  for (const v of group.fixed ?? []) add(v);
  const rest = [...counts.entries()].filter(([v]) => !order.includes(v));
  if (!group.fixed) rest.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [v] of rest) add(v);
  for (const v of filters[group.list]) add(v);
  return order.map((value) => ({ value, count: counts.get(value) ?? 0 }));
}

export function isOn(filters: Filters, list: ListKey, value: string): boolean {
  return filters[list].includes(value);
}

/** Turns one chip on or off (a new `Filters`). */
export function toggleValue(filters: Filters, list: ListKey, value: string): Filters {
  const current = filters[list];
  const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
  return { ...filters, [list]: next };
}

/** The dormant chips are one choice: picking the chosen one again clears it. */
export function toggleDormant(filters: Filters, days: number): Filters {
  return { ...filters, noSignInForDays: filters.noSignInForDays === days ? null : days };
}

export function filterCount(filters: Filters): number {
  let n = filters.noSignInForDays === null ? 0 : 1;
  for (const group of FACET_GROUPS) n += filters[group.list].length;
  return n;
}

export function isFiltered(filters: Filters): boolean {
  return filters.text.trim() !== "" || filterCount(filters) > 0;
}

export type SortOrder = { sort: string; descending: boolean };

export function toQuery(filters: Filters, order: SortOrder, offset: number, limit: number): UserQuery {
  return {
    text: filters.text.trim(),
    roles: [...filters.roles],
    licences: [...filters.licences],
    statuses: [...filters.statuses],
    branches: [...filters.branches],
    zones: [...filters.zones],
    securityGroups: [...filters.securityGroups],
    signInMethods: [...filters.signInMethods],
    invitationStates: [...filters.invitationStates],
    noSignInForDays: filters.noSignInForDays,
    hideDeactivated: !filters.showDeactivated,
    sort: order.sort,
    descending: order.descending,
    offset,
    limit: Math.max(1, Math.min(500, limit)),
  };
}

/** Identifies a query apart from its window: equal keys mean the same rows. */
export function queryKey(filters: Filters, order: SortOrder): string {
  const q = toQuery(filters, order, 0, 1);
  return JSON.stringify([q.text, q.roles, q.licences, q.statuses, q.branches, q.zones, q.securityGroups, q.signInMethods, q.invitationStates, q.noSignInForDays, q.hideDeactivated, q.sort, q.descending]);
}

/** "20,000 users", or "12 of 20,000 users" when filtered. */
export function countText(total: number, all: number | null, filtered: boolean): string {
  const word = (n: number) => `user${n === 1 ? "" : "s"}`;
  if (filtered && all !== null && all >= total) return `${total.toLocaleString("en-US")} of ${all.toLocaleString("en-US")} ${word(all)}`;
  return `${total.toLocaleString("en-US")} ${word(total)}`;
}

// ---- the window cache -------------------------------------------------------------------

export type Window<R> = { total: number; hidden?: number; offset: number; rows: R[] };
export type Fetcher<R> = (offset: number, limit: number) => Promise<Window<R>>;

/**
 * Rows fetched in fixed-size windows, by offset. `reset` starts a new query (or the same one
 * over changed data): replies to earlier queries are dropped, and until the new query's
 * first reply the old rows stay on show so typing does not flash an empty table.
 */
export class WindowCache<R, T = undefined> {
  readonly size: number;
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
  /** Called when a reply (or failure) arrives: redraw. */
  onchange: () => void;
  /** The last failure of this query, in words. */
  error: string | null = null;

  constructor(size: number, onchange: () => void = () => {}) {
    this.size = Math.max(1, Math.min(500, size));
    this.onchange = onchange;
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
    this.error = null;
  }

  /** Fetches again what failed. */
  retry(): void {
    if (this.fetcher) this.reset(this.fetcher, this.currentTag);
  }

  /** The tag of the query whose [`total`](#total) is on show. */
  get tag(): T | undefined {
    return this.currentTotal !== null ? this.currentTag : this.previousTag;
  }

  /** The matching count: this query's, else the last one's while this one loads. */
  get total(): number | null {
    return this.currentTotal ?? this.previousTotal;
  }

  /** How many more users match but are left out (deactivated), as the last answer said. */
  get hidden(): number {
    return this.currentHidden;
  }

  /** Whether this query has answered at all. */
  get settled(): boolean {
    return this.currentTotal !== null;
  }

  get loading(): boolean {
    return this.inflight.size > 0;
  }

  row(index: number): R | undefined {
    const w = Math.floor(index / this.size);
    const found = this.windows.get(w) ?? this.previous?.get(w);
    return found?.[index - w * this.size];
  }

  /** Whether the rows `first..=last` are all fetched for this query. */
  has(first: number, last: number): boolean {
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
      this.error = null;
    } catch (error) {
      if (generation !== this.generation) return;
      this.failedWindows.add(w);
      this.error = error instanceof Error ? error.message : "The users could not be read.";
      // A failed query shows no rows rather than the last query's.
      this.previous = null;
      if (this.currentTotal === null) this.previousTotal = null;
    } finally {
      if (generation === this.generation) {
        this.inflight.delete(w);
        this.onchange();
      }
    }
  }
}

// ---- the selection ------------------------------------------------------------------------

/** Some rows by id, or (`all`) everything matching the query except `ids`. */
export type Selection = { all: boolean; ids: ReadonlySet<string> };

export const NO_SELECTION: Selection = { all: false, ids: new Set() };

export function isSelected(selection: Selection, id: string): boolean {
  return selection.all ? !selection.ids.has(id) : selection.ids.has(id);
}

export function selectedCount(selection: Selection, total: number): number {
  return selection.all ? Math.max(0, total - selection.ids.size) : selection.ids.size;
}

export function setSelected(selection: Selection, ids: readonly string[], on: boolean): Selection {
  const next = new Set(selection.ids);
  // In `all` mode the set holds the exceptions, so "on" removes from it.
  const add = selection.all ? !on : on;
  for (const id of ids) {
    if (add) next.add(id);
    else next.delete(id);
  }
  return { all: selection.all, ids: next };
}

export function toggleSelected(selection: Selection, id: string): Selection {
  return setSelected(selection, [id], !isSelected(selection, id));
}

export function selectAllMatching(): Selection {
  return { all: true, ids: new Set() };
}

/** The header checkbox's state. */
export function headerState(selection: Selection, total: number): "none" | "some" | "all" {
  const count = selectedCount(selection, total);
  if (count === 0 || total === 0) return "none";
  return count >= total && (selection.all || selection.ids.size >= total) ? "all" : "some";
}

/** Rows `from..=to` in order, whichever way they were given. */
export function span(from: number, to: number): [number, number] {
  return from <= to ? [from, to] : [to, from];
}

/** Moves the active row by `delta` (or to an end), within `0..total`. */
export function moveActive(active: number, delta: number, total: number): number {
  if (total <= 0) return -1;
  if (active < 0) return delta < 0 ? total - 1 : 0;
  return Math.max(0, Math.min(total - 1, active + delta));
}
