// The command palette's pure logic: which commands match what was typed and in which
// order, how they mix with found users, how the selection moves, and the highlighted
// parts of a title. Also the organisation ordering shared with the org switcher.
// Unit-tested in palette.test.ts.

export type PaletteCommand = {
  id: string;
  title: string;
  /** Other words it answers to ("theme" → "dark mode"). */
  keywords?: string[];
  /** Shown on the right: a shortcut or a short hint. */
  hint?: string;
  /** Why it cannot be run now (shown, and Enter does nothing). */
  disabledReason?: string | null;
};

function words(text: string): string[] {
  return text.toLowerCase().split(/[\s\-_/]+/).filter(Boolean);
}

/**
 * How well `query` names `command` (higher is better; -1 for no match). Whole title
 * prefix beats a word prefix, beats every query word starting some word, beats a keyword,
 * beats a substring, beats the initials ("gtu" → "Go to Users"). Loose letter-by-letter
 * matches are not accepted: typing a person's name should not match "Audit log".
 */
export function scoreCommand(query: string, command: PaletteCommand): number {
  const q = query.trim().toLowerCase();
  if (!q) return 0;
  const title = command.title.toLowerCase();
  const titleWords = words(command.title);
  const keywordWords = (command.keywords ?? []).flatMap(words);
  if (title === q) return 120;
  if (title.startsWith(q)) return 100;
  if (titleWords.some((w) => w.startsWith(q))) return 85;
  const parts = words(q);
  if (parts.length > 1 && parts.every((p) => titleWords.some((w) => w.startsWith(p)))) return 75;
  if (keywordWords.some((w) => w.startsWith(q))) return 65;
  if (parts.length > 1 && parts.every((p) => [...titleWords, ...keywordWords].some((w) => w.startsWith(p)))) return 60;
  if (q.length >= 3 && title.includes(q)) return 50;
  const initials = titleWords.map((w) => w[0]).join("");
  if (q.length >= 2 && !q.includes(" ") && initials.startsWith(q)) return 40;
  return -1;
}

/** The commands matching `query`, best first (ties keep their listed order). */
export function rankCommands<T extends PaletteCommand>(commands: readonly T[], query: string): T[] {
  if (!query.trim()) return [...commands];
  return commands
    .map((command, index) => ({ command, index, score: scoreCommand(query, command) }))
    .filter((entry) => entry.score >= 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((entry) => entry.command);
}

/** Whether typing this much looks for people too. */
export function searchesUsers(query: string): boolean {
  return query.trim().length >= 2;
}

export type PaletteItem<C, U> = { kind: "command"; command: C } | { kind: "user"; user: U };

/** Strong command matches first, then found users, then weaker command matches. */
export function mergeItems<C extends PaletteCommand, U>(
  ranked: readonly C[],
  users: readonly U[],
  query: string,
): PaletteItem<C, U>[] {
  const strong: C[] = [];
  const weak: C[] = [];
  for (const command of ranked) (scoreCommand(query, command) >= 85 || !query.trim() ? strong : weak).push(command);
  return [
    ...strong.map((command) => ({ kind: "command" as const, command })),
    ...users.map((user) => ({ kind: "user" as const, user })),
    ...weak.map((command) => ({ kind: "command" as const, command })),
  ];
}

/** The next selected index after moving by `delta`, wrapping round; -1 for an empty list. */
export function moveSelection(index: number, delta: number, length: number): number {
  if (length <= 0) return -1;
  if (index < 0) return delta >= 0 ? 0 : length - 1;
  return (((index + delta) % length) + length) % length;
}

export type Segment = { text: string; hit: boolean };

/** `text` split so the parts matching the query's words can be highlighted. */
export function highlight(text: string, query: string): Segment[] {
  const parts = words(query).sort((a, b) => b.length - a.length);
  if (!parts.length || !text) return text ? [{ text, hit: false }] : [];
  const lower = text.toLowerCase();
  const marked = new Array<boolean>(text.length).fill(false);
  for (const part of parts) {
    let from = 0;
    for (;;) {
      const at = lower.indexOf(part, from);
      if (at < 0) break;
      // Only at the start of a word, or anywhere for longer fragments.
      const atWordStart = at === 0 || /[\s\-_/@.+]/.test(lower[at - 1]);
      if (atWordStart || part.length >= 3) for (let i = at; i < at + part.length; i++) marked[i] = true;
      from = at + 1;
    }
  }
  const segments: Segment[] = [];
  for (let i = 0; i < text.length; i++) {
    const last = segments[segments.length - 1];
    if (last && last.hit === marked[i]) last.text += text[i];
    else segments.push({ text: text[i], hit: marked[i] });
  }
  return segments;
}

export type OrgLike = { id: string; name: string; favourite: boolean };

/** Favourites first, then by name (case-insensitive), then id. */
export function sortOrgs<T extends OrgLike>(orgs: readonly T[]): T[] {
  return [...orgs].sort(
    (a, b) =>
      Number(b.favourite) - Number(a.favourite) ||
      a.name.localeCompare(b.name, undefined, { sensitivity: "base" }) ||
      a.id.localeCompare(b.id),
  );
}
