// Which account actions the user-detail screen offers for a user, and why one is disabled:
// read-only console, a feature the server lacks, or the signed-in person's own account.
// Pure, unit-tested.
import type { commands, SimpleAction } from "./bindings";

type Data<F extends (...args: never[]) => Promise<unknown>> = Extract<Awaited<ReturnType<F>>, { status: "ok" }> extends { data: infer D } ? D : never;

/** A user as `getUser` (and every action) sends them. */
export type Detail = Data<typeof commands.getUser>;
/** A page of the audit log. */
export type History = Data<typeof commands.audit>;

export type ActionKey =
  | "edit"
  | "send-welcome"
  | "send-password-reset"
  | "send-magic-link"
  | "set-password"
  | "suspend"
  | "unsuspend"
  | "revoke-sessions"
  | "reset-mfa"
  | "deactivate"
  | "reactivate"
  | "restore"
  | "delete";

export type ActionGroup = "sign-in" | "access" | "danger";

export type ActionDef = {
  key: ActionKey;
  label: string;
  /** The server feature it needs (`app.feature(name)`), if any. */
  feature: string | null;
  /** Refused on one's own account. */
  notOnSelf: boolean;
  /** Confirmed first. */
  destructive: boolean;
  group: ActionGroup | null;
  /** The `runAction` name, for the simple ones. */
  simple: SimpleAction | null;
  /** Said when it worked: `{name}` is the user. */
  success: string;
};

export const SELF_REASON = "You cannot do this to your own account.";

export const ACTIONS: Record<ActionKey, ActionDef> = {
  edit: { key: "edit", label: "Edit", feature: null, notOnSelf: false, destructive: false, group: null, simple: null, success: "" },
  "send-welcome": {
    key: "send-welcome",
    label: "Send invitation",
    feature: "send-welcome",
    notOnSelf: false,
    destructive: false,
    group: "sign-in",
    simple: "sendWelcome",
    success: "Invitation sent to {name}.",
  },
  "send-password-reset": {
    key: "send-password-reset",
    label: "Send password reset",
    feature: "send-password-reset",
    notOnSelf: false,
    destructive: false,
    group: "sign-in",
    simple: "sendPasswordReset",
    success: "Password reset link sent to {name}.",
  },
  "send-magic-link": {
    key: "send-magic-link",
    label: "Send sign-in link",
    feature: "send-magic-link",
    notOnSelf: false,
    destructive: false,
    group: "sign-in",
    simple: "sendMagicLink",
    success: "Sign-in link sent to {name}.",
  },
  "set-password": {
    key: "set-password",
    label: "Set password…",
    feature: "set-password",
    notOnSelf: true,
    destructive: false,
    group: "sign-in",
    simple: null,
    success: "Password set for {name}.",
  },
  suspend: {
    key: "suspend",
    label: "Suspend…",
    feature: "suspend",
    notOnSelf: true,
    destructive: true,
    group: "access",
    simple: "suspend",
    success: "{name} is suspended and signed out everywhere.",
  },
  unsuspend: {
    key: "unsuspend",
    label: "Unsuspend",
    feature: "unsuspend",
    notOnSelf: false,
    destructive: false,
    group: "access",
    simple: "unsuspend",
    success: "{name} can sign in again.",
  },
  "revoke-sessions": {
    key: "revoke-sessions",
    label: "Sign out everywhere…",
    feature: "revoke-sessions",
    notOnSelf: true,
    destructive: true,
    group: "access",
    simple: "revokeSessions",
    success: "{name} is signed out everywhere.",
  },
  "reset-mfa": {
    key: "reset-mfa",
    label: "Reset two-factor…",
    feature: "reset-mfa",
    notOnSelf: true,
    destructive: true,
    group: "access",
    simple: "resetMfa",
    success: "Two-factor reset for {name}.",
  },
  deactivate: {
    key: "deactivate",
    label: "Deactivate…",
    feature: "deactivate",
    notOnSelf: true,
    destructive: true,
    group: "danger",
    simple: null,
    success: "{name} is deactivated.",
  },
  reactivate: {
    key: "reactivate",
    label: "Reactivate",
    feature: "reactivate",
    notOnSelf: false,
    destructive: false,
    group: "danger",
    simple: "reactivate",
    success: "{name} is active again.",
  },
  restore: {
    key: "restore",
    label: "Restore",
    feature: "restore",
    notOnSelf: false,
    destructive: false,
    group: "danger",
    simple: "restore",
    success: "{name} is restored.",
  },
  delete: {
    key: "delete",
    label: "Delete…",
    feature: null,
    notOnSelf: true,
    destructive: true,
    group: "danger",
    simple: null,
    success: "{name} is deleted.",
  },
};

type Subject = Pick<Detail, "status" | "invitation" | "mfaEnabled">;

/** The actions that make sense for a user in their state, in display order. */
export function actionsFor(user: Subject, systemAdmin = false): ActionKey[] {
  const status = user.status;
  const invitation = user.invitation?.state ?? null;
  const keys: ActionKey[] = [];
  const add = (key: ActionKey, when: boolean) => {
    if (when) keys.push(key);
  };
  const live = status === "active" || status === "invited" || status === "suspended";
  add("edit", status !== "deleted");
  add("send-welcome", status === "invited" || (live && (invitation === "pending" || invitation === "expired")));
  add("send-password-reset", status === "active");
  add("send-magic-link", status === "active");
  add("set-password", live);
  add("suspend", status === "active");
  add("unsuspend", status === "suspended");
  add("revoke-sessions", status === "active" || status === "suspended");
  add("reset-mfa", (status === "active" || status === "suspended") && user.mfaEnabled !== false);
  add("deactivate", live);
  add("reactivate", status === "deactivated");
  add("restore", status === "deleted" && systemAdmin);
  add("delete", status !== "deleted");
  return keys;
}

export type Gate = {
  readOnlyReason: string | null;
  feature: (name: string) => { available: boolean; reason: string | null };
  isSelf: boolean;
};

/** Why the action cannot be used now, or null when it can. */
export function disabledReason(key: ActionKey, gate: Gate): string | null {
  const def = ACTIONS[key];
  if (gate.readOnlyReason) return gate.readOnlyReason;
  if (def.feature) {
    const f = gate.feature(def.feature);
    if (!f.available) return f.reason ?? "This server does not offer this action.";
  }
  if (gate.isSelf && def.notOnSelf) return SELF_REASON;
  return null;
}

/** The distinct reasons among disabled actions, each with the actions it holds back
 * (`all`: every action offered). */
export function reasonsOf(keys: readonly ActionKey[], gate: Gate): { reason: string; actions: string[]; all: boolean }[] {
  const out: { reason: string; actions: string[]; all: boolean }[] = [];
  for (const key of keys) {
    const reason = disabledReason(key, gate);
    if (!reason) continue;
    const name = ACTIONS[key].label.replace(/…$/, "");
    const found = out.find((r) => r.reason === reason);
    if (found) found.actions.push(name);
    else out.push({ reason, actions: [name], all: false });
  }
  for (const r of out) r.all = keys.length > 1 && r.actions.length === keys.length;
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
