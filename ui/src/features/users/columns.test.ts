import { describe, expect, it } from "vitest";
import type { Row } from "./filters";
import {
  ariaSort,
  cellText,
  COLUMNS,
  COLUMNS_KEY,
  DEFAULT_VISIBLE,
  gridTemplate,
  loadSort,
  loadVisible,
  minWidth,
  nextSort,
  parseSort,
  parseVisible,
  saveSort,
  saveVisible,
  toggleColumn,
  type Sort,
} from "./columns";

function memory(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, v),
  };
}

const row: Row = {
  id: "u1",
  name: "Jane Doe",
  initials: "JD",
  hasPhoto: false,
  email: "jane@shop.test",
  userName: "jane@shop.test",
  phone: null,
  role: "technician",
  licence: "field",
  status: "active",
  branch: "Denver",
  securityGroup: "Field Standard",
  zones: ["North", "West"],
  lastSignInAt: "2026-11-23T11:57:00Z",
  lastSignInMethod: "magic_link",
  invitationState: "accepted",
  invitationExpiresAt: null,
  invitationLabel: "accepted",
  mfaEnabled: true,
};

describe("visible columns", () => {
  it("defaults when nothing (or nonsense) was saved", () => {
    expect(parseVisible(null)).toEqual(DEFAULT_VISIBLE);
    expect(parseVisible("not json")).toEqual(DEFAULT_VISIBLE);
    expect(parseVisible('{"a":1}')).toEqual(DEFAULT_VISIBLE);
    expect(parseVisible("[]")).toEqual(DEFAULT_VISIBLE);
  });

  it("keeps table order, drops unknown ids and always shows the name", () => {
    expect(parseVisible('["status","bogus","email","status"]')).toEqual(["name", "email", "status"]);
  });

  it("toggles columns but never the name", () => {
    expect(toggleColumn(["name", "email"], "status")).toEqual(["name", "email", "status"]);
    expect(toggleColumn(["name", "email", "status"], "email")).toEqual(["name", "status"]);
    expect(toggleColumn(["name", "email"], "name")).toEqual(["name", "email"]);
    expect(toggleColumn(["name", "lastSignIn"], "role")).toEqual(["name", "role", "lastSignIn"]);
  });

  it("is remembered in storage", () => {
    const store = memory();
    expect(loadVisible(store)).toEqual(DEFAULT_VISIBLE);
    saveVisible(["name", "securityGroup"], store);
    expect(store.getItem(COLUMNS_KEY)).toBe('["name","securityGroup"]');
    expect(loadVisible(store)).toEqual(["name", "securityGroup"]);
    expect(loadVisible(null)).toEqual(DEFAULT_VISIBLE);
  });

  it("builds the grid template and minimum width", () => {
    expect(gridTemplate(["name", "mfa"])).toBe("44px minmax(160px, 1.4fr) 64px");
    expect(minWidth(["name", "mfa"])).toBe(44 + 160 + 64);
  });

  it("has unique ids", () => {
    expect(new Set(COLUMNS.map((c) => c.id)).size).toBe(COLUMNS.length);
  });
});

describe("sorting", () => {
  it("flips the same column and starts others ascending", () => {
    const start: Sort = { sort: "name", descending: false };
    expect(nextSort(start, "name")).toEqual({ sort: "name", descending: true });
    expect(nextSort(start, "email")).toEqual({ sort: "email", descending: false });
    expect(nextSort(start, "lastSignIn")).toEqual({ sort: "lastSignIn", descending: true });
    expect(nextSort(start, "zones")).toBe(start);
  });

  it("reports aria-sort", () => {
    const by: Sort = { sort: "email", descending: true };
    expect(ariaSort(by, "email")).toBe("descending");
    expect(ariaSort({ sort: "email", descending: false }, "email")).toBe("ascending");
    expect(ariaSort(by, "name")).toBe("none");
    expect(ariaSort(by, "zones")).toBe("none");
  });

  it("is remembered, and bad saved sorts fall back to the name", () => {
    const store = memory();
    expect(loadSort(store)).toEqual({ sort: "name", descending: false });
    saveSort({ sort: "securityGroup", descending: true }, store);
    expect(loadSort(store)).toEqual({ sort: "securityGroup", descending: true });
    expect(parseSort('{"sort":"password"}')).toEqual({ sort: "name", descending: false });
    expect(parseSort("{")).toEqual({ sort: "name", descending: false });
  });
});

describe("cell text", () => {
  const now = new Date("2026-11-23T12:00:00Z");
  it("formats each column", () => {
    expect(cellText(row, "name", now)).toBe("Jane Doe");
    expect(cellText(row, "role", now)).toBe("Technician");
    expect(cellText(row, "phone", now)).toBe("—");
    expect(cellText(row, "zones", now)).toBe("North, West");
    expect(cellText(row, "mfa", now)).toBe("On");
    expect(cellText({ ...row, mfaEnabled: null }, "mfa", now)).toBe("—");
    expect(cellText(row, "lastSignIn", now)).toBe("3 minutes ago");
    expect(cellText({ ...row, lastSignInAt: null }, "lastSignIn", now)).toBe("never");
    expect(cellText(row, "invitation", now)).toBe("Accepted");
    expect(cellText({ ...row, invitationState: "pending", invitationLabel: "expires in 5 h" }, "invitation", now)).toBe("Pending · expires in 5 h");
    expect(cellText(row, "login", now)).toBe("Magic link");
  });
});
