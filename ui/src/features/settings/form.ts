// The settings form's state and what it sends: each lifetime is one of the engine's
// presets or a number typed in the lifetime's unit; only what differs from what the
// server has is sent. Bounds and words come from the engine, which checks every value
// again and names the setting it refuses.
import type { LifetimeView, OrgSettingsView, SettingsInput } from "../../lib/bindings";

/** The select's value for "type a number". */
export const CUSTOM = "custom";

/** One lifetime as the form holds it. */
export type LifetimeForm = { choice: string; custom: number | null };

/** The whole form. */
export type SettingsForm = {
  policyStyle: string;
  requireAdminMfa: boolean;
  lifetimes: Record<string, LifetimeForm>;
};

/** The form showing `view` as it is: a preset where the value is one, else the number. */
export function formOf(view: OrgSettingsView): SettingsForm {
  const lifetimes: Record<string, LifetimeForm> = {};
  for (const lifetime of view.lifetimes) {
    const preset = lifetime.presets.some((p) => p.value === String(lifetime.value));
    lifetimes[lifetime.key] = preset ? { choice: String(lifetime.value), custom: null } : { choice: CUSTOM, custom: lifetime.value };
  }
  return { policyStyle: view.policyStyle, requireAdminMfa: view.requireAdminMfa, lifetimes };
}

/** The value a lifetime's form holds, or null while no whole, positive number is chosen. */
export function valueOf(form: LifetimeForm | undefined): number | null {
  if (!form) return null;
  const text = form.choice === CUSTOM ? String(form.custom ?? "").trim() : form.choice;
  if (!/^\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** The lifetimes whose form holds no usable number yet, by key. */
export function incomplete(view: OrgSettingsView, form: SettingsForm): string[] {
  return view.lifetimes.filter((l: LifetimeView) => valueOf(form.lifetimes[l.key]) === null).map((l) => l.key);
}

/** What differs from `view`, as the engine takes it (empty lists and nulls: no change). */
export function changesOf(view: OrgSettingsView, form: SettingsForm): SettingsInput {
  const lifetimes = view.lifetimes
    .map((l) => ({ key: l.key, value: valueOf(form.lifetimes[l.key]) }))
    .filter((l): l is { key: string; value: number } => l.value !== null)
    .filter((l) => l.value !== view.lifetimes.find((v) => v.key === l.key)?.value);
  return {
    policyStyle: form.policyStyle !== view.policyStyle ? form.policyStyle : null,
    lifetimes,
    requireAdminMfa: form.requireAdminMfa !== view.requireAdminMfa ? form.requireAdminMfa : null,
  };
}

/** Whether `input` changes anything. */
export function changesAnything(input: SettingsInput): boolean {
  return input.policyStyle !== null || input.lifetimes.length > 0 || input.requireAdminMfa !== null;
}
