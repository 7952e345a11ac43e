// Pure logic behind the user form: values ↔ `UserInput`, server and engine field
// errors, what changed meanwhile, and the multi-value fields' helpers. No Svelte, no I/O:
// unit-tested in fields.test.ts.
import type { UserDetail, UserInput } from "../../lib/bindings";

/** The user form as typed: every field a string or a list of strings. */
export type UserFormValues = {
  givenName: string;
  familyName: string;
  email: string;
  userName: string;
  phone: string;
  jobRole: string;
  licence: string;
  role: string;
  securityGroup: string;
  serviceGroups: string[];
  homeBranch: string;
  branches: string[];
  zones: string[];
  permissions: string[];
};

export type FormField = keyof UserFormValues;

/** What saving the form does to the user's photo: set it from a chosen file (a `data:`
 * URL the engine checked, with its preview), or remove it. */
export type PhotoChange = { kind: "set"; file: string; preview: string; name: string } | { kind: "remove" };

/** What every section of the form is given: the values, and how a field reports. */
export type SectionProps = {
  values: UserFormValues;
  /** The error to show under a field, if any. */
  errorFor: (field: FormField) => string | undefined;
  /** A field was typed in or changed (its server error goes). */
  edited: (field: FormField) => void;
};

/** The fields in the order the form shows them, with their labels. */
export const FIELD_LABELS: Record<FormField, string> = {
  givenName: "First name",
  familyName: "Last name",
  email: "Email",
  userName: "Sign-in name",
  phone: "Phone",
  jobRole: "Job role",
  licence: "Licence",
  role: "Role",
  securityGroup: "Security group",
  serviceGroups: "Service groups",
  homeBranch: "Home branch",
  branches: "Branches",
  zones: "Zones",
  permissions: "Permissions",
};

export const FIELD_ORDER = Object.keys(FIELD_LABELS) as FormField[];

export function emptyForm(): UserFormValues {
  return {
    givenName: "",
    familyName: "",
    email: "",
    userName: "",
    phone: "",
    jobRole: "",
    licence: "",
    role: "",
    securityGroup: "",
    serviceGroups: [],
    homeBranch: "",
    branches: [],
    zones: [],
    permissions: [],
  };
}

/** The form filled from a user, for editing. */
export function formFromDetail(detail: UserDetail): UserFormValues {
  return {
    givenName: detail.givenName ?? "",
    familyName: detail.familyName ?? "",
    email: detail.email ?? "",
    userName: detail.userName,
    phone: detail.phone ?? "",
    jobRole: detail.jobRole ?? "",
    licence: detail.licence ?? "",
    role: detail.role ?? "",
    securityGroup: detail.securityGroup ?? "",
    serviceGroups: [...detail.serviceGroups],
    homeBranch: detail.homeBranch ?? "",
    branches: [...detail.branches],
    zones: [...detail.zones],
    permissions: [...detail.permissions],
  };
}

function optional(value: string): string | null {
  const trimmed = value.trim();
  return trimmed ? trimmed : null;
}

/** Trimmed, without blanks or duplicates (case-insensitive), in the order given. */
export function cleanList(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of values) {
    const value = raw.trim();
    const key = value.toLowerCase();
    if (!value || seen.has(key)) continue;
    seen.add(key);
    out.push(value);
  }
  return out;
}

/** What is sent to the engine: trimmed, blanks as `null`, lists cleaned. */
export function inputFromForm(values: UserFormValues): UserInput {
  return {
    userName: values.userName.trim(),
    givenName: values.givenName.trim(),
    familyName: values.familyName.trim(),
    email: values.email.trim(),
    phone: optional(values.phone),
    jobRole: optional(values.jobRole),
    licence: optional(values.licence),
    role: optional(values.role),
    securityGroup: optional(values.securityGroup),
    serviceGroups: cleanList(values.serviceGroups),
    zones: cleanList(values.zones),
    homeBranch: optional(values.homeBranch),
    branches: cleanList(values.branches),
    permissions: cleanList(values.permissions),
  };
}

/** The engine's shape check: one @, something before it, a dotted domain, no spaces. */
export function looksLikeEmail(value: string): boolean {
  const address = value.trim();
  const at = address.lastIndexOf("@");
  if (at < 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  return (
    local.length > 0 &&
    !local.includes("@") &&
    domain.includes(".") &&
    !domain.startsWith(".") &&
    !domain.endsWith(".") &&
    !/\s/.test(address)
  );
}

/** Whether two emails are the same address (case and spaces aside). */
export function sameEmail(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? "").trim().toLowerCase() === (b ?? "").trim().toLowerCase();
}

const FIELD_ALIASES: Record<string, FormField> = {
  givenname: "givenName",
  familyname: "familyName",
  email: "email",
  emails: "email",
  username: "userName",
  phone: "phone",
  phonenumbers: "phone",
  jobrole: "jobRole",
  title: "jobRole",
  licence: "licence",
  license: "licence",
  role: "role",
  securitygroup: "securityGroup",
  servicegroups: "serviceGroups",
  homebranch: "homeBranch",
  branches: "branches",
  zones: "zones",
  permissions: "permissions",
};

/**
 * The form field a server or engine field path names: `name.givenName`, `emails[type eq
 * "work"].value`, `urn:…:shop:role`, `userName`… or `null` when it names none.
 */
export function formFieldOf(path: string): FormField | null {
  const cleaned = path.replace(/\[[^\]]*\]/g, "");
  const parts = cleaned.split(/[.:]/).filter(Boolean).map((p) => p.toLowerCase());
  // `emails.value` → emails; `name.givenName` → givenName: the last part that is known.
  for (let i = parts.length - 1; i >= 0; i--) {
    const found = FIELD_ALIASES[parts[i]];
    if (found) return found;
  }
  return null;
}

/** Server field problems split into the form's fields and the rest (shown in the box). */
export function mapFieldErrors(fields: readonly { field: string; message: string }[]): {
  byField: Partial<Record<FormField, string>>;
  other: string[];
} {
  const byField: Partial<Record<FormField, string>> = {};
  const other: string[] = [];
  for (const { field, message } of fields) {
    const target = formFieldOf(field);
    if (target && !byField[target]) byField[target] = message;
    else if (!target) other.push(message);
  }
  return { byField, other };
}

function shown(value: string | string[]): string {
  if (Array.isArray(value)) return value.length ? value.join(", ") : "—";
  return value.trim() ? value.trim() : "—";
}

function normalised(value: string | string[]): string {
  if (Array.isArray(value)) return cleanList(value).map((v) => v.toLowerCase()).sort().join("\n");
  return value.trim();
}

export type FieldDifference = { field: FormField; label: string; mine: string; theirs: string };

/** The fields where two versions of the form differ, in form order, as text for people. */
export function diffForms(mine: UserFormValues, theirs: UserFormValues): FieldDifference[] {
  return FIELD_ORDER.filter((field) => normalised(mine[field]) !== normalised(theirs[field])).map((field) => ({
    field,
    label: FIELD_LABELS[field],
    mine: shown(mine[field]),
    theirs: shown(theirs[field]),
  }));
}

/** Whether the form differs from what was loaded. */
export function isDirty(values: UserFormValues, loaded: UserFormValues): boolean {
  return diffForms(values, loaded).length > 0;
}

/** Adds a value to a list unless it is there already (case-insensitive). */
export function addTo(list: readonly string[], value: string): string[] {
  const trimmed = value.trim();
  if (!trimmed || list.some((v) => v.toLowerCase() === trimmed.toLowerCase())) return [...list];
  return [...list, trimmed];
}

/** Adds or removes a value. */
export function toggleIn(list: readonly string[], value: string): string[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** The choices for a multi-value field: the known values, then any chosen one not known. */
export function choices(known: readonly { value: string }[] | undefined, chosen: readonly string[]): string[] {
  const values = (known ?? []).map((k) => k.value).filter((v) => v.trim() !== "");
  const extra = chosen.filter((c) => !values.some((v) => v.toLowerCase() === c.toLowerCase()));
  return [...values, ...extra];
}
