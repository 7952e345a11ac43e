// The command palette's commands: where to go, what to run, and the engine's actions for
// the user on screen (available ones run there, with the screen's confirmation; the rest
// show the engine's reason). It reads `app`, so inside a `$derived` the list follows the
// console's state.
import type { UserDetail } from "../../lib/bindings";
import { ACTIONS } from "../../lib/DetailActions";
import type { PaletteCommand } from "../../lib/palette";
import { app, type Route } from "../../lib/state.svelte";

export type Command = PaletteCommand & { icon: string; run: () => void | Promise<void> };

/** What the commands need from the palette itself. */
export type PaletteUi = {
  close: () => void;
  /** Goes to `route` and closes the palette. */
  go: (route: Route) => () => void;
  /** Lists the organisations instead of the commands. */
  openOrgs: () => Promise<void>;
  signOut: () => Promise<void>;
};

/** The commands on offer now; `shown` is the user on screen, if any. */
export function paletteCommands(shown: UserDetail | null, ui: PaletteUi): Command[] {
  const status = app.status;
  const ready = status?.phase === "ready";
  const systemAdmin = !!status?.account?.systemAdmin;
  const list: (Command & { show: boolean })[] = [
    { id: "users", icon: "☰", title: "Go to Users", keywords: ["people", "list", "table"], show: ready, run: ui.go({ name: "users" }) },
    {
      id: "invite",
      icon: "+",
      title: "Invite user",
      keywords: ["create", "new", "add", "person"],
      disabledReason: app.readOnlyReason,
      show: ready,
      run: ui.go({ name: "create" }),
    },
    {
      id: "import",
      icon: "⇪",
      title: "Import users from CSV",
      keywords: ["csv", "upload", "bulk", "invite", "many", "spreadsheet"],
      disabledReason: app.readOnlyReason,
      show: ready,
      run: ui.go({ name: "import" }),
    },
    {
      id: "review",
      icon: "▤",
      title: "Account review",
      keywords: ["dormant", "inactive", "invitations", "two-factor", "mfa", "licences", "sign-in", "report", "support"],
      show: ready,
      run: ui.go({ name: "review" }),
    },
    { id: "groups", icon: "◫", title: "Go to Groups", keywords: ["teams", "members", "group"], show: ready && app.feature("groups").available, run: ui.go({ name: "groups" }) },
    { id: "api-tokens", icon: "⚿", title: "API tokens", keywords: ["integration", "token", "scim", "provisioning", "key"], show: ready && app.feature("api-tokens").available, run: ui.go({ name: "api-tokens" }) },
    { id: "settings", icon: "⚙", title: "Organisation settings", keywords: ["policy", "password", "invitation", "link", "lifetime", "session", "two-factor", "mfa"], show: ready && app.feature("settings").available, run: ui.go({ name: "settings" }) },
    { id: "orgs", icon: "▦", title: "Organisations", keywords: ["tenants", "plan", "billing", "suspend", "server", "system"], show: ready && app.feature("organisations").available, run: ui.go({ name: "orgs" }) },
    { id: "audit", icon: "◷", title: "Audit log", keywords: ["history", "events", "log"], show: ready && app.feature("audit").available, run: ui.go({ name: "audit" }) },
    {
      id: "connections",
      icon: "⇄",
      title: "Connections",
      keywords: ["profiles", "servers", "accounts"],
      show: ready,
      run: ui.go({ name: "connections" }),
    },
    {
      id: "sync",
      icon: "↻",
      title: "Sync now",
      keywords: ["refresh", "update", "download", "offline"],
      disabledReason: !status?.online ? "Offline: the server can't be reached." : app.syncing ? "A sync is running." : null,
      show: ready,
      run: () => {
        void app.sync();
        ui.close();
      },
    },
    {
      id: "theme",
      icon: "◐",
      title: "Toggle theme",
      keywords: ["dark", "light", "mode", "appearance"],
      hint: app.theme === "dark" ? "Light" : "Dark",
      show: true,
      run: () => {
        app.toggleTheme();
        ui.close();
      },
    },
    {
      id: "switch-org",
      icon: "▦",
      title: "Switch organisation",
      keywords: ["org", "tenant", "customer", "organization"],
      hint: status?.org ?? undefined,
      show: ready && systemAdmin,
      run: ui.openOrgs,
    },
    {
      id: "sign-out",
      icon: "⏻",
      title: "Sign out",
      keywords: ["log out", "logout", "exit"],
      show: ready,
      run: () => {
        ui.close();
        void ui.signOut();
      },
    },
  ];
  // The engine's actions for the user on screen: available ones run there (with the
  // screen's confirmation), the rest show the engine's reason.
  const person = shown;
  if (person) {
    for (const offer of person.actions) {
      const def = ACTIONS[offer.action];
      const words = def.label.replace(/…$/, "");
      list.push({
        id: `act-${offer.action}`,
        icon: "▸",
        title: offer.action === "edit" ? `Edit ${person.displayName}` : `${words}: ${person.displayName}`,
        keywords: [words, person.displayName],
        disabledReason: offer.available ? null : (offer.reason ?? "Not available."),
        show: ready,
        run: () => {
          app.pendingAction = { id: person.id, action: offer.action };
          ui.close();
        },
      });
    }
  }
  return list.filter((c) => c.show);
}
