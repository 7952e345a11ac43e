import { describe, expect, it } from "vitest";
import { actionsFor, actionText, disabledReason, reasonsOf, SELF_REASON, successText, type Gate } from "./DetailActions";

const user = (status: string, invitation: string | null = null, mfaEnabled: boolean | null = true) => ({
  status,
  invitation: invitation ? { state: invitation, sentAt: null, expiresAt: null } : null,
  mfaEnabled,
});

const open: Gate = { readOnlyReason: null, feature: () => ({ available: true, reason: null }), isSelf: false };

describe("actionsFor", () => {
  it("offers an active user's actions", () => {
    expect(actionsFor(user("active", "accepted"))).toEqual([
      "edit",
      "send-password-reset",
      "send-magic-link",
      "set-password",
      "suspend",
      "revoke-sessions",
      "reset-mfa",
      "deactivate",
      "delete",
    ]);
  });

  it("offers the invitation to invited users and pending or expired invitations", () => {
    expect(actionsFor(user("invited", "pending"))).toContain("send-welcome");
    expect(actionsFor(user("invited"))).toContain("send-welcome");
    expect(actionsFor(user("active", "expired"))).toContain("send-welcome");
    expect(actionsFor(user("active", "accepted"))).not.toContain("send-welcome");
    expect(actionsFor(user("deactivated", "pending"))).not.toContain("send-welcome");
  });

  it("suspends only active users and unsuspends suspended ones", () => {
    expect(actionsFor(user("suspended"))).toContain("unsuspend");
    expect(actionsFor(user("suspended"))).not.toContain("suspend");
    expect(actionsFor(user("invited"))).not.toContain("suspend");
  });

  it("reactivates deactivated users, and restores deleted ones for system admins", () => {
    expect(actionsFor(user("deactivated"))).toEqual(["edit", "reactivate", "delete"]);
    expect(actionsFor(user("deleted"))).toEqual([]);
    expect(actionsFor(user("deleted"), true)).toEqual(["restore"]);
  });

  it("skips resetting two-factor that is off", () => {
    expect(actionsFor(user("active", null, false))).not.toContain("reset-mfa");
    expect(actionsFor(user("active", null, null))).toContain("reset-mfa");
  });
});

describe("disabledReason", () => {
  it("says read-only first, then a missing feature, then oneself", () => {
    const gate: Gate = {
      readOnlyReason: "You are offline.",
      feature: (name) => (name === "suspend" ? { available: false, reason: "Not on this server." } : { available: true, reason: null }),
      isSelf: true,
    };
    expect(disabledReason("suspend", gate)).toBe("You are offline.");
    expect(disabledReason("suspend", { ...gate, readOnlyReason: null })).toBe("Not on this server.");
    expect(disabledReason("deactivate", { ...gate, readOnlyReason: null })).toBe(SELF_REASON);
    expect(disabledReason("send-magic-link", { ...gate, readOnlyReason: null })).toBeNull();
    expect(disabledReason("edit", open)).toBeNull();
  });

  it("refuses the lock-out actions on oneself", () => {
    const self = { ...open, isSelf: true };
    for (const key of ["suspend", "deactivate", "delete", "revoke-sessions", "reset-mfa", "set-password"] as const) {
      expect(disabledReason(key, self)).toBe(SELF_REASON);
    }
    expect(disabledReason("edit", self)).toBeNull();
    expect(disabledReason("send-password-reset", self)).toBeNull();
  });

  it("falls back to a sentence when the server gives no reason", () => {
    const gate = { ...open, feature: () => ({ available: false, reason: null }) };
    expect(disabledReason("reset-mfa", gate)).toBe("This server does not offer this action.");
  });

  it("groups the reasons", () => {
    const self = { ...open, isSelf: true };
    expect(reasonsOf(["edit", "suspend", "delete"], self)).toEqual([{ reason: SELF_REASON, actions: ["Suspend", "Delete"], all: false }]);
    expect(reasonsOf(["edit"], open)).toEqual([]);
    const offline = { ...open, readOnlyReason: "You are offline." };
    expect(reasonsOf(["edit", "suspend"], offline)).toEqual([{ reason: "You are offline.", actions: ["Edit", "Suspend"], all: true }]);
  });

  it("words the success", () => {
    expect(successText("suspend", "Jane Doe")).toBe("Jane Doe is suspended and signed out everywhere.");
  });
});

describe("actionText", () => {
  it("words audit actions", () => {
    expect(actionText("user.send-welcome")).toBe("Send welcome");
    expect(actionText("user.suspend")).toBe("Suspend");
    expect(actionText("session.sign_in_failed")).toBe("Session: sign in failed");
    expect(actionText("api_token.create")).toBe("API token: create");
    expect(actionText("widget.frob")).toBe("Widget: frob");
    expect(actionText("login")).toBe("Login");
  });
});
