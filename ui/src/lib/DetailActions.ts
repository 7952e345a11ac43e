// How the user-detail screen shows the account actions: their words, groups and
// confirmations. Which actions a user has, and why one is unavailable, is the engine's
// answer (`detail.actions`); nothing here decides it. Pure, unit-tested.
import type { commands, Offer, SimpleAction, UserAction } from "./bindings";

type Data<F extends (...args: never[]) => Promise<unknown>> = Extract<Awaited<ReturnType<F>>, { status: "ok" }> extends { data: infer D } ? D : never;

/** A user as `getUser` (and every action) sends them. */
export type Detail = Data<typeof commands.getUser>;
/** A page of the audit log. */
export type History = Data<typeof commands.audit>;

/** An action on a user, as the engine names it. */
export type ActionKey = UserAction;

export type ActionGroup = "sign-in" | "access" | "danger";

/** How the screen shows an action: words and place only. Whether it is offered, and
 * why not, is the engine's answer in `detail.actions`. */
export type ActionDef = {
  key: ActionKey;
  label: string;
  /** Confirmed first. */
  destructive: boolean;
  group: ActionGroup | null;
  /** The `runAction` name, for the simple ones. */
  simple: SimpleAction | null;
  /** Said when it worked: `{name}` is the user. */
  success: string;
};

export const ACTIONS: Record<ActionKey, ActionDef> = {
  edit: { key: "edit", label: "Edit", destructive: false, group: null, simple: null, success: "" },
  "send-welcome": { key: "send-welcome", label: "Send invitation", destructive: false, group: "sign-in", simple: "sendWelcome", success: "Invitation sent to {name}." },
  "send-password-reset": { key: "send-password-reset", label: "Send password reset", destructive: false, group: "sign-in", simple: "sendPasswordReset", success: "Password reset link sent to {name}." },
  "send-magic-link": { key: "send-magic-link", label: "Send sign-in link", destructive: false, group: "sign-in", simple: "sendMagicLink", success: "Sign-in link sent to {name}." },
  "set-password": { key: "set-password", label: "Set password…", destructive: false, group: "sign-in", simple: null, success: "Password set for {name}." },
  suspend: { key: "suspend", label: "Suspend…", destructive: true, group: "access", simple: "suspend", success: "{name} is suspended and signed out everywhere." },
  unsuspend: { key: "unsuspend", label: "Unsuspend", destructive: false, group: "access", simple: "unsuspend", success: "{name} can sign in again." },
  "revoke-sessions": { key: "revoke-sessions", label: "Sign out everywhere…", destructive: true, group: "access", simple: "revokeSessions", success: "{name} is signed out everywhere." },
  "reset-mfa": { key: "reset-mfa", label: "Reset two-factor…", destructive: true, group: "access", simple: "resetMfa", success: "Two-factor reset for {name}." },
  deactivate: { key: "deactivate", label: "Deactivate…", destructive: true, group: "danger", simple: null, success: "{name} is deactivated." },
  reactivate: { key: "reactivate", label: "Reactivate", destructive: false, group: "danger", simple: "reactivate", success: "{name} is active again." },
  restore: { key: "restore", label: "Restore", destructive: false, group: "danger", simple: "restore", success: "{name} is restored." },
  delete: { key: "delete", label: "Delete…", destructive: true, group: "danger", simple: null, success: "{name} is deleted." },
};

/** The engine's answer for one action, if it listed it. */
export function offerOf(offers: readonly Offer[], key: ActionKey): Offer | undefined {
  return offers.find((o) => o.action === key);
}

/** Why the engine holds `key` back, or null when it can be done. */
export function disabledReason(offers: readonly Offer[], key: ActionKey): string | null {
  const offer = offerOf(offers, key);
  if (!offer) return "Not offered for this user.";
  return offer.available ? null : (offer.reason ?? "Not available.");
}

/** The distinct reasons among the engine's unavailable actions, each with the actions it
 * holds back (`all`: every action listed), so a reason is said once. */
export function reasonsOf(offers: readonly Offer[]): { reason: string; actions: string[]; all: boolean }[] {
  const out: { reason: string; actions: string[]; all: boolean }[] = [];
  for (const offer of offers) {
    if (offer.available || !offer.reason) continue;
    const name = ACTIONS[offer.action].label.replace(/…$/, "");
    const found = out.find((r) => r.reason === offer.reason);
    if (found) found.actions.push(name);
    else out.push({ reason: offer.reason, actions: [name], all: false });
  }
  for (const r of out) r.all = offers.length > 1 && r.actions.length === offers.length;
  return out;
}

export function successText(key: ActionKey, name: string): string {
  return ACTIONS[key].success.replace("{name}", name);
}

const SUBJECTS: Record<string, string> = {
  user: "",
  session: "Session",
  mfa: "Two-factor",
  api_token: "API token",
  group: "Group",
  org: "Organisation",
};

/** An audit action for people: `user.send-welcome` → "Send welcome", `session.sign_in` →
 * "Session: sign in". */
export function actionText(action: string): string {
  const dot = action.indexOf(".");
  const words = (text: string) => text.replace(/[_-]+/g, " ").trim();
  if (dot < 0) return capitalise(words(action));
  const subject = action.slice(0, dot);
  const verb = words(action.slice(dot + 1));
  const name = SUBJECTS[subject] ?? capitalise(words(subject));
  return name ? `${name}: ${verb}` : capitalise(verb);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
