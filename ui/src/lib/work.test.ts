import { describe, expect, it } from "vitest";
import { Work } from "./work.svelte";

describe("Work", () => {
  it("is busy while the work runs, and not after", async () => {
    const work = new Work();
    let finish = () => {};
    const running = work.run(() => new Promise<void>((resolve) => (finish = resolve)));
    expect(work.busy).toBe(true);
    finish();
    await running;
    expect(work.busy).toBe(false);
    expect(work.error).toBeNull();
  });

  it("keeps a failure instead of throwing it, and forgets it when the next attempt starts", async () => {
    const work = new Work();
    const failure = new Error("refused");
    await work.run(() => Promise.reject(failure));
    expect(work.error).toBe(failure);
    expect(work.busy).toBe(false);
    let during: unknown = "unset";
    await work.run(async () => {
      during = work.error;
    });
    expect(during).toBeNull();
    expect(work.error).toBeNull();
  });
});
