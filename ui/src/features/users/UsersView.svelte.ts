// The users screen's state that outlives the screen: opening a user and coming back finds
// the same search, filters, sort, selection, scroll position and active row. Columns and
// sort are also remembered between runs (localStorage).
import type { Facets } from "../../lib/bindings";
import { loadSort, loadVisible, saveSort, saveVisible, type ColumnId, type Sort } from "./columns";
import { emptyFilters, type Filters, type Row } from "./filters";
import { NO_SELECTION, type Selection } from "./selection";
import { WindowCache } from "./WindowCache.svelte";

/** Rows fetched per `searchUsers` call. */
export const WINDOW_ROWS = 200;

const FILTERS_OPEN_KEY = "muster.users.filtersOpen";

function loadFlag(key: string, fallback: boolean): boolean {
  try {
    const saved = localStorage.getItem(key);
    return saved === null ? fallback : saved === "true";
  } catch {
    return fallback;
  }
}

class UsersView {
  filters = $state<Filters>(emptyFilters());
  order = $state<Sort>(loadSort());
  columns = $state<ColumnId[]>(loadVisible());
  selection = $state<Selection>(NO_SELECTION);
  /** Where a shift-click range starts. */
  anchor = $state<number | null>(null);
  active = $state(-1);
  filtersOpen = $state(loadFlag(FILTERS_OPEN_KEY, true));
  facets = $state<Facets | null>(null);
  dormantCounts = $state<Record<number, number | null>>({});
  /** Not reactive: read once when the table mounts. */
  scrollTop = 0;
  /** The query the cache holds rows of. */
  queryKey: string | null = null;
  /** Tagged with whether the query is filtered (for the count's wording). */
  readonly cache = new WindowCache<Row, boolean>(WINDOW_ROWS);

  setOrder(order: Sort): void {
    this.order = order;
    saveSort(order);
  }

  setColumns(columns: ColumnId[]): void {
    this.columns = columns;
    saveVisible(columns);
  }

  toggleFiltersOpen(): void {
    this.filtersOpen = !this.filtersOpen;
    try {
      localStorage.setItem(FILTERS_OPEN_KEY, String(this.filtersOpen));
    } catch {
      // forgotten
    }
  }
}

export const usersView = new UsersView();
