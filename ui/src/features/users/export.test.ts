import { describe, expect, it } from "vitest";
import { exportColumnsFor, exportedText } from "./export";

const offered = ["id", "name", "email", "role", "homeBranch", "branches", "mfaEnabled", "lastSignIn"].map((name) => ({ name, label: name }));

describe("export columns", () => {
  it("follow the table's visible columns, in order, and only ones the engine offers", () => {
    expect(exportColumnsFor(["name", "branch", "email", "mfa", "zones"], offered)).toEqual(["name", "homeBranch", "branches", "email", "mfaEnabled"]);
    expect(exportColumnsFor([], offered)).toEqual([]);
  });

  it("say how many went where", () => {
    expect(exportedText(1204, "users-2026-11-23.csv")).toBe("Exported 1,204 users to users-2026-11-23.csv.");
    expect(exportedText(1, "a.csv")).toBe("Exported 1 user to a.csv.");
  });
});
