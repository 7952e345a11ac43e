// The photos of the users on screen, as `data:` URLs from the engine (which reads each
// one from the server once and keeps it for the session; it never fetches a photo from
// anywhere but the server signed in to). Avatars ask by user id; the asks of one frame are
// sent together. A user whose photo cannot be shown gets `null` and the avatar shows the
// engine's initials; one the engine could not read now (offline) is asked again the next
// time an avatar wants it. Kept for one session only, and only so many.
import { SvelteMap } from "svelte/reactivity";
import { call } from "./api";
import { commands } from "./bindings";

/** How many users' photos are kept (the oldest go first). */
const KEPT = 600;
/** How many ids one request asks for (the engine reads at most this many). */
const PER_CALL = 100;

class Photos {
  /** id → data URL, or null once the engine had none to show; in the order first asked. */
  #shown = new SvelteMap<string, string | null>();
  /** Ids to ask for at the next send. */
  #wanted = new Set<string>();
  /** Ids asked for and not answered yet. */
  #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The session the photos belong to; another one starts afresh. */
  #session: string | null = null;

  /** The photo of user `id` if it has come; asks for it otherwise. Safe to read in a
   * `$derived`: asking changes no state until the answer arrives. */
  of(id: string): string | null {
    const shown = this.#shown.get(id);
    if (shown === undefined) this.#ask(id);
    return shown ?? null;
  }

  /** After a photo changed: ask again for these users (every one kept, without ids). */
  refresh(ids?: string[]): void {
    for (const id of ids ?? [...this.#shown.keys()]) this.#ask(id);
  }

  /** The session shown now (profile, organisation, account): photos of another are let go. */
  session(key: string | null): void {
    if (key === this.#session) return;
    this.#session = key;
    this.#shown.clear();
    this.#wanted.clear();
  }

  #ask(id: string): void {
    if (this.#pending.has(id)) return;
    this.#wanted.add(id);
    this.#timer ??= setTimeout(() => void this.#send(), 16);
  }

  async #send(): Promise<void> {
    this.#timer = null;
    const ids = [...this.#wanted].slice(0, PER_CALL);
    for (const id of ids) {
      this.#wanted.delete(id);
      this.#pending.add(id);
    }
    if (this.#wanted.size > 0) this.#timer = setTimeout(() => void this.#send(), 16);
    const session = this.#session;
    try {
      const answered = await call(commands.userPhotos(ids));
      if (session !== this.#session) return;
      for (const photo of answered) this.#keep(photo.id, photo.dataUrl ?? null);
    } catch {
      // Signed out meanwhile: the next session asks again.
    } finally {
      for (const id of ids) this.#pending.delete(id);
    }
  }

  #keep(id: string, shown: string | null): void {
    this.#shown.set(id, shown);
    while (this.#shown.size > KEPT) {
      const oldest = this.#shown.keys().next().value;
      if (oldest === undefined) break;
      this.#shown.delete(oldest);
    }
  }
}

export const photos = new Photos();
