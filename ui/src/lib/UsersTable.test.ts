import { describe, expect, it } from "vitest";
import type { Facets } from "./bindings";
import {
  chipValues,
  countText,
  dormantChoices,
  emptyFilters,
  FACET_GROUPS,
  filterCount,
  headerState,
  isFiltered,
  isSelected,
  moveActive,
  NO_SELECTION,
  queryKey,
  selectAllMatching,
  selectedCount,
  setSelected,
  span,
  toggleDormant,
  toggleSelected,
  toggleValue,
  toQuery,
  WindowCache,
  type Fetcher,
  type Window,
} from "./UsersTable";

const facets: Facets = {
  roles: [
    { value: "admin", count: 3 },
    { value: "technician", count: 300 },
    { value: "viewer", count: 40 },
  ],
  licences: [],
  statuses: [
    { value: "active", count: 330 },
    { value: "deleted", count: 2 },
    { value: "deactivated", count: 13 },
  ],
  branches: [],
  zones: [],
  securityGroups: [],
  serviceGroups: [],
  signInMethods: [],
  invitationStates: [
    { value: "accepted", count: 300 },
    { value: "pending", count: 4 },
  ],
};

const group = (facet: string) => FACET_GROUPS.find((g) => g.facet === facet)!;

describe("filters", () => {
  it("offers facet values by count, fixed ones first with zero counts", () => {
    const f = emptyFilters();
    expect(chipValues(group("role"), facets, f).map((v) => v.value)).toEqual(["technician", "viewer", "admin"]);
    expect(chipValues(group("status"), facets, f)).toEqual([
      { value: "active", count: 330 },
      { value: "invited", count: 0 },
      { value: "suspended", count: 0 },
      { value: "deactivated", count: 13 },
      { value: "deleted", count: 2 },
    ]);
    expect(chipValues(group("invitation"), facets, f)).toEqual([
      { value: "pending", count: 4 },
      { value: "expired", count: 0 },
    ]);
    expect(chipValues(group("role"), null, f)).toEqual([]);
  });

  it("keeps a chosen value on offer after it disappears from the facets", () => {
    const f = toggleValue(emptyFilters(), "branches", "Pueblo");
    expect(chipValues(group("branch"), facets, f)).toEqual([{ value: "Pueblo", count: 0 }]);
  });

  it("toggles values and the dormant choice", () => {
    let f = toggleValue(emptyFilters(), "roles", "technician");
    f = toggleValue(f, "roles", "viewer");
    expect(f.roles).toEqual(["technician", "viewer"]);
    f = toggleValue(f, "roles", "technician");
    expect(f.roles).toEqual(["viewer"]);
    f = toggleDormant(f, 30);
    expect(f.noSignInForDays).toBe(30);
    f = toggleDormant(f, 90);
    expect(f.noSignInForDays).toBe(90);
    expect(filterCount(f)).toBe(2);
    f = toggleDormant(f, 90);
    expect(f.noSignInForDays).toBeNull();
  });

  it("knows when anything filters", () => {
    expect(isFiltered(emptyFilters())).toBe(false);
    expect(isFiltered({ ...emptyFilters(), text: "  " })).toBe(false);
    expect(isFiltered({ ...emptyFilters(), text: "jo" })).toBe(true);
    expect(isFiltered(toggleDormant(emptyFilters(), 60))).toBe(true);
  });

  it("builds the query with the window and a capped limit", () => {
    const f = { ...toggleValue(emptyFilters(), "statuses", "suspended"), text: " jane " };
    const q = toQuery(f, { sort: "email", descending: true }, 400, 9999);
    expect(q).toMatchObject({ text: "jane", statuses: ["suspended"], sort: "email", descending: true, offset: 400, limit: 500, noSignInForDays: null });
  });

  it("keys queries apart from their window", () => {
    const order = { sort: "name", descending: false };
    const a = queryKey(emptyFilters(), order);
    expect(queryKey({ ...emptyFilters(), text: "  " }, order)).toBe(a);
    expect(queryKey({ ...emptyFilters(), text: "x" }, order)).not.toBe(a);
    expect(queryKey(emptyFilters(), { sort: "name", descending: true })).not.toBe(a);
  });

  it("says how many", () => {
    expect(countText(20000, 20000, false)).toBe("20,000 users");
    expect(countText(12, 20000, true)).toBe("12 of 20,000 users");
    expect(countText(1, 1, false)).toBe("1 user");
    expect(countText(12, null, true)).toBe("12 users");
  });
});

type Row = { id: string };

function fakeServer(total: number) {
  const calls: { offset: number; limit: number; resolve: () => void }[] = [];
  const fetcher: Fetcher<Row> = (offset, limit) =>
    new Promise<Window<Row>>((resolve) => {
      const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({ id: `u${offset + i}` }));
      calls.push({ offset, limit, resolve: () => resolve({ total, offset, rows }) });
    });
  return { calls, fetcher };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("WindowCache", () => {
  it("fetches the windows covering the rows asked for, once", async () => {
    const server = fakeServer(1000);
    let changes = 0;
    const cache = new WindowCache<Row>(100, () => changes++);
    cache.reset(server.fetcher);
    cache.ensure(150, 260);
    expect(server.calls.map((c) => c.offset)).toEqual([100, 200]);
    cache.ensure(150, 260);
    expect(server.calls).toHaveLength(2);
    expect(cache.loading).toBe(true);
    server.calls.forEach((c) => c.resolve());
    await flush();
    expect(changes).toBe(2);
    expect(cache.total).toBe(1000);
    expect(cache.row(150)).toEqual({ id: "u150" });
    expect(cache.row(299)).toEqual({ id: "u299" });
    expect(cache.row(300)).toBeUndefined();
    expect(cache.has(100, 299)).toBe(true);
    expect(cache.has(100, 300)).toBe(false);
    cache.ensure(180, 220);
    expect(server.calls).toHaveLength(2);
  });

  it("tags the total on show with its own query, not the one still loading", async () => {
    const all = fakeServer(1000);
    const some = fakeServer(12);
    const cache = new WindowCache<Row, boolean>(100);
    cache.reset(all.fetcher, false);
    cache.ensure(0, 10);
    all.calls[0].resolve();
    await flush();
    cache.reset(some.fetcher, true);
    cache.ensure(0, 10);
    // The filtered query has not answered: the count shown is still the unfiltered one's.
    expect(cache.total).toBe(1000);
    expect(cache.tag).toBe(false);
    some.calls[0].resolve();
    await flush();
    expect(cache.total).toBe(12);
    expect(cache.tag).toBe(true);
  });

  it("does not fetch past the end", async () => {
    const server = fakeServer(120);
    const cache = new WindowCache<Row>(100);
    cache.reset(server.fetcher);
    cache.ensure(0, 50);
    server.calls[0].resolve();
    await flush();
    cache.ensure(90, 500);
    expect(server.calls.map((c) => c.offset)).toEqual([0, 100]);
    cache.ensure(200, 300);
    expect(server.calls).toHaveLength(2);
  });

  it("drops replies to an earlier query and shows the old rows until the new ones come", async () => {
    const server = fakeServer(1000);
    const cache = new WindowCache<Row>(100);
    cache.reset(server.fetcher);
    cache.ensure(0, 10);
    server.calls[0].resolve();
    await flush();

    const newer = fakeServer(5);
    cache.reset(server.fetcher);
    cache.ensure(0, 10); // the old fetcher, now stale
    cache.reset(newer.fetcher);
    cache.ensure(0, 10);
    // Still the old rows and count while the new query loads.
    expect(cache.row(0)).toEqual({ id: "u0" });
    expect(cache.total).toBe(1000);
    expect(cache.settled).toBe(false);

    newer.calls[0].resolve();
    await flush();
    expect(cache.total).toBe(5);
    server.calls[1].resolve(); // the stale reply arrives late
    await flush();
    expect(cache.total).toBe(5);
    expect(cache.row(0)).toEqual({ id: "u0" });
    expect(cache.row(7)).toBeUndefined();
  });

  it("records a failure without retrying until asked", async () => {
    let fail = true;
    let calls = 0;
    const cache = new WindowCache<Row>(50);
    cache.reset(async (offset) => {
      calls++;
      if (fail) throw new Error("The copy is locked.");
      return { total: 1, offset, rows: [{ id: "a" }] };
    });
    cache.ensure(0, 10);
    await flush();
    expect(cache.error).toBe("The copy is locked.");
    cache.ensure(0, 10);
    expect(calls).toBe(1);
    fail = false;
    cache.retry();
    cache.ensure(0, 10);
    await flush();
    expect(cache.error).toBeNull();
    expect(cache.row(0)).toEqual({ id: "a" });
  });

  it("reads a range across windows for shift-click", async () => {
    const cache = new WindowCache<Row>(10);
    let calls = 0;
    cache.reset(async (offset, limit) => {
      calls++;
      return { total: 100, offset, rows: Array.from({ length: limit }, (_, i) => ({ id: `u${offset + i}` })) };
    });
    const rows = await cache.rows(5, 24);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `u${i + 5}`));
    expect(calls).toBe(3);
    await cache.rows(8, 12);
    expect(calls).toBe(3);
  });
});

describe("selection", () => {
  it("selects some rows", () => {
    let s = toggleSelected(NO_SELECTION, "a");
    s = toggleSelected(s, "b");
    expect(isSelected(s, "a")).toBe(true);
    expect(selectedCount(s, 100)).toBe(2);
    s = toggleSelected(s, "a");
    expect(isSelected(s, "a")).toBe(false);
    s = setSelected(s, ["c", "d", "b"], true);
    expect(selectedCount(s, 100)).toBe(3);
    expect(headerState(s, 100)).toBe("some");
    expect(headerState(NO_SELECTION, 100)).toBe("none");
  });

  it("selects everything matching, with exceptions", () => {
    let s = selectAllMatching();
    expect(isSelected(s, "zzz")).toBe(true);
    expect(selectedCount(s, 20000)).toBe(20000);
    expect(headerState(s, 20000)).toBe("all");
    s = toggleSelected(s, "a");
    expect(isSelected(s, "a")).toBe(false);
    expect(selectedCount(s, 20000)).toBe(19999);
    expect(headerState(s, 20000)).toBe("some");
    s = setSelected(s, ["a", "b"], true);
    expect(selectedCount(s, 20000)).toBe(20000);
  });

  it("orders ranges and moves the active row", () => {
    expect(span(9, 3)).toEqual([3, 9]);
    expect(span(3, 9)).toEqual([3, 9]);
    expect(moveActive(-1, 1, 10)).toBe(0);
    expect(moveActive(-1, -1, 10)).toBe(9);
    expect(moveActive(5, 20, 10)).toBe(9);
    expect(moveActive(5, -20, 10)).toBe(0);
    expect(moveActive(0, 1, 0)).toBe(-1);
  });
});

describe("dormantChoices", () => {
  it("offers the usual thresholds, and shows one chosen elsewhere among them", () => {
    expect(dormantChoices(emptyFilters())).toEqual([30, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 60 })).toEqual([30, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 45 })).toEqual([30, 45, 60, 90]);
    expect(dormantChoices({ ...emptyFilters(), noSignInForDays: 365 })).toEqual([30, 60, 90, 365]);
  });
});
