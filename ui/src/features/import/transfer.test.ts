import { describe, expect, it } from "vitest";
import type { ColumnMapping_Serialize as ColumnMapping, ImportReport_Serialize as ImportReport, RowPreview_Serialize as RowPreview } from "../../lib/bindings";
import { doubleMapped, fieldLabel, inviteLabel, overridesFor, previewOrder, reportText } from "./transfer";

describe("import mapping", () => {
  const auto: ColumnMapping[] = [
    { column: 0, header: "E-mail", field: "email", note: null },
    { column: 1, header: "Surname", field: "familyName", note: null },
    { column: 2, header: "Notes", field: null, note: "Not a field" },
  ];

  it("sends only the columns whose field was changed", () => {
    const chosen = { "E-mail": "email", Surname: "familyName", Notes: "" };
    expect(overridesFor(auto, chosen)).toEqual([]);
    expect(overridesFor(auto, { ...chosen, Surname: "", Notes: "jobRole" })).toEqual([
      { header: "Surname", field: null },
      { header: "Notes", field: "jobRole" },
    ]);
  });

  it("finds a field chosen for two columns", () => {
    expect(doubleMapped({ a: "email", b: "email", c: "", d: "" })).toEqual(["email"]);
    expect(doubleMapped({ a: "email", b: "phone" })).toEqual([]);
    expect(fieldLabel(null)).toBe("Not imported");
    expect(fieldLabel("givenName")).toBe("First name");
  });
});

describe("import preview and report", () => {
  function row(n: number, problems: number): RowPreview {
    return {
      row: n,
      email: `p${n}@x.test`,
      userName: `p${n}@x.test`,
      name: `P ${n}`,
      licence: null,
      role: null,
      ready: problems === 0,
      problems: Array.from({ length: problems }, () => ({ kind: "badEmail", severity: "error", field: "email", message: "Bad", suggestion: null })),
    };
  }

  it("lists rows with problems first, in file order", () => {
    expect(previewOrder([row(2, 0), row(3, 1), row(4, 0), row(5, 2)]).map((r) => r.row)).toEqual([3, 5, 2, 4]);
  });

  it("labels the send button with the ready count", () => {
    expect(inviteLabel(12, true)).toBe("Invite 12 users");
    expect(inviteLabel(1, false)).toBe("Create 1 user");
  });

  it("sums a run up", () => {
    const report: ImportReport = { rows: [], created: 5, invited: 3, welcomeFailed: 1, failed: 1, skipped: 2, notRun: 0, stopped: null };
    expect(reportText(report)).toBe("3 invited · 1 created · 1 created without welcome email · 1 failed · 2 skipped");
    expect(reportText({ ...report, created: 0, invited: 0, welcomeFailed: 0, failed: 0, skipped: 0 })).toBe("Nothing was sent");
  });
});
