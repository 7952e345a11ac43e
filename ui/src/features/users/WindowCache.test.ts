import { describe, expect, it } from "vitest";
import { WindowCache, type Fetcher, type Window } from "./WindowCache.svelte";

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
    const cache = new WindowCache<Row>(100);
    cache.reset(server.fetcher);
    const version = cache.version;
    cache.ensure(150, 260);
    expect(server.calls.map((c) => c.offset)).toEqual([100, 200]);
    cache.ensure(150, 260);
    expect(server.calls).toHaveLength(2);
    expect(cache.loading).toBe(true);
    server.calls.forEach((c) => c.resolve());
    await flush();
    // One change a reader can see per reply.
    expect(cache.version - version).toBe(2);
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
