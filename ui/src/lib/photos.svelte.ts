// The photos of the users on screen, as `data:` URLs from the engine (which reads each
// one from the server once and keeps it for the session; it never fetches a photo from
// anywhere but the server signed in to). Avatars ask by user id; the asks of one frame are
// sent together. A user without a photo, or whose photo cannot be shown, gets `null`
// and the avatar shows the engine's initials.
import { SvelteMap } from "svelte/reactivity";
import { call } from "./api";
import { commands } from "./bindings";

class Photos {
  /** id → data URL, or null once the engine had none to show. */
  #shown = new SvelteMap<string, string | null>();
  #wanted = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** The photo of user `id` if it has come; asks for it otherwise. Safe to read in a
   * `$derived`: asking changes no state until the answer arrives. */
  of(id: string): string | null {
    const shown = this.#shown.get(id);
    if (shown === undefined) this.#ask(id);
    return shown ?? null;
  }

  /** After a photo changed: ask again for these users (all, without ids). */
  refresh(ids?: string[]): void {
    for (const id of ids ?? [...this.#shown.keys()]) this.#ask(id);
  }

  #ask(id: string): void {
    this.#wanted.add(id);
    this.#timer ??= setTimeout(() => void this.#send(), 16);
  }

  async #send(): Promise<void> {
    this.#timer = null;
    const ids = [...this.#wanted].slice(0, 100);
    for (const id of ids) this.#wanted.delete(id);
    if (this.#wanted.size > 0) this.#timer = setTimeout(() => void this.#send(), 16);
    try {
      const got = await call(commands.userPhotos(ids));
      const byId = new Map(got.map((p) => [p.id, p.dataUrl]));
      for (const id of ids) this.#shown.set(id, byId.get(id) ?? null);
    } catch {
      // Signed out or offline: initials now, asked again on the next refresh.
    }
  }
}

export const photos = new Photos();
