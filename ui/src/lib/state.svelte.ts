// The console's shared state: the engine's status, where we are, the theme, notices and
// the sync in progress. Screens read `app` and call its methods; the Rust side owns the
// truth (every change comes back as a new `StatusView`).
import { Channel } from "@tauri-apps/api/core";
import { commands, type AppInfo, type Choices, type FeatureName, type OrgView, type OutcomeView, type StatusView, type SyncProgressView, type UserAction } from "./bindings";
import { call, messageOf } from "./api";
import { photos } from "./photos.svelte";
import { markOnce } from "./marks";

export type Route =
  | { name: "users" }
  | { name: "user"; id: string; outcome?: OutcomeView }
  | { name: "create" }
  | { name: "edit"; id: string }
  | { name: "audit"; target?: string }
  | { name: "review" }
  | { name: "groups" }
  | { name: "api-tokens" }
  | { name: "settings" }
  | { name: "orgs" }
  | { name: "import" }
  | { name: "connections" }
  | { name: "account" };

export type Toast = { id: number; kind: "info" | "success" | "error"; text: string };

type Theme = "light" | "dark";

const THEME_KEY = "muster.theme";
/** How often a sync's progress is drawn at most: five times a second. */
const PROGRESS_EVERY_MS = 200;

function initialTheme(): Theme {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem(THEME_KEY) : null;
  if (saved === "light" || saved === "dark") return saved;
  const dark = typeof matchMedia !== "undefined" && matchMedia("(prefers-color-scheme: dark)").matches;
  return dark ? "dark" : "light";
}

class AppState {
  status = $state<StatusView | null>(null);
  info = $state<AppInfo | null>(null);
  route = $state<Route>({ name: "users" });
  theme = $state<Theme>(initialTheme());
  toasts = $state<Toast[]>([]);
  syncing = $state(false);
  progress = $state<SyncProgressView | null>(null);
  /** Bumped whenever the cached users change, so views re-query. */
  dataVersion = $state(0);
  paletteOpen = $state(false);
  /** An action chosen in the palette for the user on screen, for that screen to start. */
  pendingAction = $state<{ id: string; action: UserAction } | null>(null);
  private nextToast = 1;
  private retryTimer: ReturnType<typeof setInterval> | null = null;

  get ready(): boolean {
    return this.status?.phase === "ready";
  }

  /** The values the forms offer (licences, roles, responsibility kinds), from the engine. */
  get choices(): Choices {
    return this.status?.choices ?? { licences: [], roles: [], responsibilityKinds: [], permissions: [], photoMaxBytes: null, photoHint: null };
  }

  get readOnlyReason(): string | null {
    return this.status?.readOnly ? (this.status.readOnlyReason ?? "Changes are not allowed.") : null;
  }

  /** Whether the server offers a feature (an action name, `patch`, `groups`…), and why not. */
  feature(name: FeatureName): { available: boolean; reason: string | null } {
    const found = this.status?.features.find((f) => f.name === name);
    if (!found) return { available: true, reason: null };
    return { available: found.available, reason: found.reason ?? null };
  }

  async start(): Promise<void> {
    this.info = await commands.appInfo();
    markOnce("info");
    await this.refreshStatus();
    markOnce("status");
  }

  setStatus(status: StatusView): void {
    const wasOffline = this.status && !this.status.online;
    this.status = status;
    // Photos belong to one session: another profile, organisation or account starts afresh.
    photos.session(status.account ? `${status.profile?.name ?? ""}\n${status.org ?? ""}\n${status.account.id}` : null);
    if (!status.online && !this.retryTimer) {
      // Back online by itself: try the server every 10 seconds while offline.
      this.retryTimer = setInterval(() => void this.reconnect(), 10_000);
    } else if (status.online && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
      if (wasOffline) this.notify("Back online.", "success");
    }
  }

  async refreshStatus(): Promise<void> {
    this.setStatus(await call(commands.status()));
  }

  /** Signs out: the session at the server, the keychain entries, the offline copy. */
  async signOut(): Promise<void> {
    this.setStatus(await call(commands.signOut()));
    this.changed();
  }

  /** Switches to another organisation (the org switcher and the palette both offer it) and
   * shows its users. */
  async switchOrg(org: OrgView): Promise<void> {
    this.setStatus(await call(commands.switchOrg(org.id)));
    this.changed();
    this.navigate({ name: "users" });
    this.notify(`Switched to ${org.name}.`, "success");
  }

  async reconnect(): Promise<void> {
    try {
      this.setStatus(await call(commands.refresh()));
    } catch {
      // Still offline (or signed out): the banner already says so.
      await this.refreshStatus();
    }
  }

  navigate(route: Route): void {
    this.route = route;
  }

  toggleTheme(): void {
    this.theme = this.theme === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, this.theme);
  }

  notify(text: string, kind: Toast["kind"] = "info"): void {
    const id = this.nextToast++;
    this.toasts = [...this.toasts, { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === "error" ? 8000 : 4000);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Reports a failure; returns its message for inline display too. */
  fail(error: unknown): string {
    const text = messageOf(error);
    this.notify(text, "error");
    void this.refreshStatus();
    return text;
  }

  /** Brings the offline copy up to date, with progress. */
  async sync(): Promise<void> {
    if (this.syncing || !this.ready) return;
    this.syncing = true;
    this.progress = null;
    const channel = new Channel<SyncProgressView>();
    let shown = false;
    let drawn = 0;
    let pending: ReturnType<typeof setTimeout> | null = null;
    const draw = (p: SyncProgressView) => {
      if (pending !== null) clearTimeout(pending);
      pending = null;
      this.progress = p;
      drawn = performance.now();
    };
    channel.onmessage = (p) => {
      // Drawn a few times a second, not at every page: each drawing is a repaint, which
      // without a GPU takes CPU from the sync (and, on the same machine, the server). One
      // held back is drawn when its turn comes, so the last count of a phase shows.
      const wait = drawn + PROGRESS_EVERY_MS - performance.now();
      if (p.phase !== this.progress?.phase || wait <= 0) {
        draw(p);
      } else {
        if (pending !== null) clearTimeout(pending);
        pending = setTimeout(() => draw(p), wait);
      }
      // The new copy is on show while its file is written: the table can read it now.
      if (p.phase === "saving") {
        shown = true;
        this.changed();
      }
    };
    try {
      this.setStatus(await call(commands.sync(channel)));
      // The table and the chips read the copy again once, not again after its save.
      if (!shown) this.dataVersion++;
      // A photo may have changed on the server: the engine knows from the new copy.
      photos.refresh();
    } catch (error) {
      this.fail(error);
    } finally {
      if (pending !== null) clearTimeout(pending);
      this.syncing = false;
      this.progress = null;
    }
  }

  /** After a write: the engine has updated the offline copy. */
  changed(): void {
    this.dataVersion++;
    void this.refreshStatus();
  }
}

export const app = new AppState();
