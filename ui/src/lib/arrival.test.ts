import { describe, expect, it } from "vitest";
import { firstSyncArrival } from "./arrival";

const admin = { id: "u-1", displayName: "Ada Admin", role: "admin", systemAdmin: false };
const ready = {
  phase: "ready" as const,
  online: true,
  syncedAt: null,
  profile: null,
  org: "acme",
  account: admin,
};

describe("the first sync starts by itself", () => {
  it("on every arrival in a signed-in state with no copy", () => {
    // A first sign-in, and the same after a refused session (the status is the same shape:
    // signed in, no copy), and a token sign-in (an account without a password).
    expect(firstSyncArrival(ready)).toBe("/acme/u-1");
    // Another organisation is another arrival.
    expect(firstSyncArrival({ ...ready, org: "globex" })).toBe("/globex/u-1");
    // Another account is another arrival.
    expect(firstSyncArrival({ ...ready, account: { ...admin, id: "u-2" } })).toBe("/acme/u-2");
  });

  it("not when there is a copy, no server, or no sign-in", () => {
    expect(firstSyncArrival({ ...ready, syncedAt: "2026-12-06T10:00:00Z" })).toBeNull();
    expect(firstSyncArrival({ ...ready, online: false })).toBeNull();
    expect(firstSyncArrival({ ...ready, phase: "signedOut" })).toBeNull();
    expect(firstSyncArrival({ ...ready, mustChangePassword: true })).toBeNull();
    expect(firstSyncArrival({ ...ready, mfaEnrollmentRequired: true })).toBeNull();
    expect(firstSyncArrival({ ...ready, noAccessReason: "Technicians do not see accounts." })).toBeNull();
    expect(firstSyncArrival(null)).toBeNull();
  });
});
