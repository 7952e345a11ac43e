import { describe, expect, it } from "vitest";
import { CUSTOM, daysOf } from "./expiry";

describe("daysOf", () => {
  it("takes a preset as it is", () => {
    expect(daysOf("90", "")).toBe(90);
    expect(daysOf("365", "12")).toBe(365);
  });

  it("takes a typed number of days for a custom lifetime", () => {
    expect(daysOf(CUSTOM, " 14 ")).toBe(14);
    expect(daysOf(CUSTOM, 200)).toBe(200);
  });

  it("has nothing to send until a whole, positive number is chosen", () => {
    expect(daysOf(CUSTOM, "")).toBeNull();
    expect(daysOf(CUSTOM, null)).toBeNull();
    expect(daysOf(CUSTOM, "0")).toBeNull();
    expect(daysOf(CUSTOM, "-3")).toBeNull();
    expect(daysOf(CUSTOM, "2.5")).toBeNull();
    expect(daysOf(CUSTOM, "1e3")).toBeNull();
    expect(daysOf("", "")).toBeNull();
  });
});
