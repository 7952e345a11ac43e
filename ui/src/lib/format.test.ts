import { describe, expect, it } from "vitest";
import { ago, grouped, label, plural, when } from "./format";

const now = new Date("2026-11-23T12:00:00Z");

describe("format", () => {
  it("says how long ago", () => {
    expect(ago("2026-11-23T11:59:50Z", now)).toBe("just now");
    expect(ago("2026-11-23T11:57:00Z", now)).toBe("3 minutes ago");
    expect(ago("2026-11-21T12:00:00Z", now)).toBe("2 days ago");
    expect(ago(null, now)).toBe("never");
    expect(ago("garbage", now)).toBe("unknown");
  });

  it("labels wire values and counts", () => {
    expect(label("magic_link")).toBe("Magic link");
    expect(label(null)).toBe("—");
    expect(plural(1, "user")).toBe("1 user");
    expect(plural(20000, "user")).toBe("20,000 users");
  });

  it("writes times and counts as toLocaleString does, with formatters made once", () => {
    for (const iso of ["2026-11-23T11:57:00Z", "1999-01-02T03:04:05.678+05:30"]) {
      expect(when(iso)).toBe(new Date(iso).toLocaleString());
    }
    expect(when(null)).toBe("—");
    expect(when("garbage")).toBe("—");
    for (const n of [0, 7, 1234, 100000, 12345678]) {
      expect(grouped(n)).toBe(n.toLocaleString("en-US"));
      expect(plural(n, "user").split(" ")[0]).toBe(n.toLocaleString());
    }
    expect(grouped(100000)).toBe("100,000");
  });

});
