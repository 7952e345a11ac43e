// Marks on the page's own clock for the start-up figures in BENCHMARKS.md (the desktop
// benchmark reads them through WebDriver): each name once per page load.
const seen = new Set<string>();

export function markOnce(name: string): void {
  if (seen.has(name)) return;
  seen.add(name);
  performance.mark(`muster:${name}`);
}
