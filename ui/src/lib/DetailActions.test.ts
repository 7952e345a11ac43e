import { describe, expect, it } from "vitest";
import { actionText, disabledReason, offerOf, reasonsOf, successText } from "./DetailActions";
import type { Offer } from "./bindings";

const yes = (action: Offer["action"]): Offer => ({ action, available: true, reason: null });
const no = (action: Offer["action"], reason: string): Offer => ({ action, available: false, reason });

describe("reasonsOf", () => {
  it("says each of the engine's reasons once, naming the actions it holds back", () => {
    const self = "You cannot suspend your own account.";
    expect(reasonsOf([yes("edit"), no("suspend", self), no("delete", "You cannot delete your own account.")])).toEqual([
      { reason: self, actions: ["Suspend"], all: false },
      { reason: "You cannot delete your own account.", actions: ["Delete"], all: false },
    ]);
    expect(reasonsOf([yes("edit")])).toEqual([]);
    const offline = "You are offline.";
    expect(reasonsOf([no("edit", offline), no("suspend", offline)])).toEqual([{ reason: offline, actions: ["Edit", "Suspend"], all: true }]);
  });

  it("finds the engine's answer for one action", () => {
    const offers = [yes("edit"), no("restore", "Only system admins can restore deleted users.")];
    expect(offerOf(offers, "restore")?.available).toBe(false);
    expect(offerOf(offers, "suspend")).toBeUndefined();
  });

  it("says why an action is held back", () => {
    const offers = [yes("edit"), no("restore", "Only system admins can restore deleted users."), { action: "suspend" as const, available: false, reason: null }];
    expect(disabledReason(offers, "edit")).toBeNull();
    expect(disabledReason(offers, "restore")).toBe("Only system admins can restore deleted users.");
    expect(disabledReason(offers, "suspend")).toBe("Not available.");
    expect(disabledReason(offers, "delete")).toBe("Not offered for this user.");
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
