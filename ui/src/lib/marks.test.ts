import { describe, expect, it } from "vitest";
import { markOnce } from "./marks";

describe("markOnce", () => {
  it("marks a step on the page's clock the first time only", () => {
    markOnce("test-step");
    markOnce("test-step");
    expect(performance.getEntriesByName("muster:test-step", "mark")).toHaveLength(1);
  });
});
