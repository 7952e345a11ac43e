import { describe, expect, it } from "vitest";
import { auditQuery, dayEnd, dayStart, pageRange } from "./auditQuery";

describe("audit filters", () => {
  it("turns days into local-day bounds and blanks into null", () => {
    expect(dayStart("")).toBeNull();
    expect(dayStart("2026-13-45x")).toBeNull();
    const start = new Date(dayStart("2026-11-23")!);
    expect([start.getFullYear(), start.getMonth(), start.getDate(), start.getHours()]).toEqual([2026, 10, 23, 0]);
    const end = new Date(dayEnd("2026-11-23")!);
    expect([end.getDate(), end.getHours(), end.getMinutes()]).toEqual([23, 23, 59]);
    const query = auditQuery({ action: " suspend ", outcome: "", since: "", until: "2026-11-23", target: "" }, 50, 50);
    expect(query).toMatchObject({ action: "suspend", outcome: null, since: null, target: null, offset: 50, limit: 50 });
    expect(query.until).not.toBeNull();
  });

  it("describes a page", () => {
    expect(pageRange(0, 50, 1234)).toBe("1–50 of 1,234");
    expect(pageRange(1200, 34, 1234)).toBe("1,201–1,234 of 1,234");
    expect(pageRange(0, 0, 0)).toBe("0 of 0");
  });
});
