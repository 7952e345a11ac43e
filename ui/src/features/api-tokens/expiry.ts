// The lifetime the "issue a token" form sends: one of the engine's presets (in days), or a
// custom number of days the person typed. The bounds come from the engine's choices; the
// engine checks the value again and names the field if it is out of them.

/** The select's value for "type a number of days". */
export const CUSTOM = "custom";

/**
 * The days to send for `choice` (a preset's value, or `CUSTOM` with `custom` typed),
 * `null` when nothing usable is chosen yet (the submit button stays off).
 */
export function daysOf(choice: string, custom: string | number | null | undefined): number | null {
  const text = choice === CUSTOM ? String(custom ?? "").trim() : choice;
  if (!/^\d+$/.test(text)) return null;
  const days = Number(text);
  return Number.isSafeInteger(days) && days > 0 ? days : null;
}
