import { describe, expect, it } from "vitest";
import { moveActive, span } from "./grid";

describe("grid rows", () => {
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
