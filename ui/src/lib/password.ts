// Checking a new password against the organisation's rules as it is typed, a strength
// estimate, and a generator of passwords that meet the rules. The server checks again
// (and alone knows the common-password list); these mirror its rules. Pure, unit-tested.
import type { PasswordPolicyView } from "./bindings";

export type Policy = Pick<
  PasswordPolicyView,
  "minLength" | "maxLength" | "requireUpper" | "requireLower" | "requireDigit" | "requireSpecial" | "denyCommonPasswords"
>;

export type RuleId = "length" | "upper" | "lower" | "digit" | "special" | "personal" | "common";

export type RuleCheck = {
  id: RuleId;
  text: string;
  /** `null`: only the server can tell (the common-password list). */
  ok: boolean | null;
};

export type PasswordCheck = { rules: RuleCheck[]; ok: boolean };

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{N}/u;
const ALNUM = /[\p{Alphabetic}\p{N}]/u;

/** Characters, as the server counts them (code points, not UTF-16 units). */
export function length(password: string): number {
  return [...password].length;
}

export function hasUpper(password: string): boolean {
  return UPPER.test(password);
}
export function hasLower(password: string): boolean {
  return LOWER.test(password);
}
export function hasDigit(password: string): boolean {
  return DIGIT.test(password);
}
/** Anything that is not a letter or digit is special, spaces included. */
export function hasSpecial(password: string): boolean {
  return [...password].some((c) => !ALNUM.test(c));
}

/** Runs of hexadecimal with a digit are pieces of generated ids, not personal words. */
function isIdentifierPiece(part: string): boolean {
  return /^[0-9a-f]+$/i.test(part) && /[0-9]/.test(part);
}

/** Whether the password holds (ignoring case) a personal word of 4 or more characters:
 * a whole entry (user name, email's local part, given or family name) or a word of one. */
export function containsPersonal(password: string, personal: readonly string[]): boolean {
  const lower = password.toLowerCase();
  const whole = personal.map((p) => p.trim());
  const parts = personal.flatMap((p) => p.split(/[^\p{Alphabetic}\p{N}]+/u)).filter((p) => !isIdentifierPiece(p));
  return [...whole, ...parts].filter((t) => length(t) >= 4).some((t) => lower.includes(t.toLowerCase()));
}

/** The personal words of a user, as the server gathers them. */
export function personalWords(user: {
  userName?: string | null;
  email?: string | null;
  givenName?: string | null;
  familyName?: string | null;
}): string[] {
  const local = (user.email ?? "").split("@")[0] ?? "";
  return [user.userName, local, user.givenName, user.familyName].filter((w): w is string => !!w && w.trim() !== "");
}

/** Every rule of the policy, each ticked or not for `password`. */
export function checkPassword(password: string, policy: Policy, personal: readonly string[] = []): PasswordCheck {
  const n = length(password);
  const rules: RuleCheck[] = [
    {
      id: "length",
      text:
        policy.maxLength > 0
          ? `${policy.minLength} to ${policy.maxLength} characters`
          : `At least ${policy.minLength} characters`,
      ok: n >= policy.minLength && (policy.maxLength <= 0 || n <= policy.maxLength),
    },
  ];
  if (policy.requireUpper) rules.push({ id: "upper", text: "An upper-case letter", ok: hasUpper(password) });
  if (policy.requireLower) rules.push({ id: "lower", text: "A lower-case letter", ok: hasLower(password) });
  if (policy.requireDigit) rules.push({ id: "digit", text: "A digit", ok: hasDigit(password) });
  if (policy.requireSpecial) rules.push({ id: "special", text: "A symbol, such as ! or #", ok: hasSpecial(password) });
  rules.push({
    id: "personal",
    text: "Not their name or email address",
    ok: password !== "" && !containsPersonal(password, personal),
  });
  if (policy.denyCommonPasswords) rules.push({ id: "common", text: "Not a common password (checked when saved)", ok: null });
  return { rules, ok: rules.every((r) => r.ok !== false) };
}

export type Strength = { score: 0 | 1 | 2 | 3 | 4; label: string };

const STRENGTH_LABELS = ["Too weak", "Weak", "Fair", "Good", "Strong"] as const;

/** A rough estimate of how hard the password is to guess: the bits of its character pool
 * and length, less for repeats, runs (`abcd`, `1234`) and a single character class. */
export function strength(password: string): Strength {
  const chars = [...password];
  if (chars.length === 0) return { score: 0, label: STRENGTH_LABELS[0] };
  let pool = 0;
  if (/[a-z]/.test(password)) pool += 26;
  if (/[A-Z]/.test(password)) pool += 26;
  if (/[0-9]/.test(password)) pool += 10;
  if (hasSpecial(password)) pool += 33;
  if (/[^\x00-\x7f]/.test(password)) pool += 40;
  const unique = new Set(chars.map((c) => c.toLowerCase())).size;
  // Each repeated or sequential character counts for less.
  let effective = 0;
  for (let i = 0; i < chars.length; i++) {
    const prev = i > 0 ? chars[i - 1].codePointAt(0)! : NaN;
    const here = chars[i].codePointAt(0)!;
    const runs = Math.abs(here - prev) <= 1;
    effective += runs ? 0.35 : 1;
  }
  effective = Math.min(effective, unique * 1.5);
  const bits = effective * Math.log2(Math.max(pool, 2));
  const score = bits < 28 ? 0 : bits < 45 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  return { score: score as Strength["score"], label: STRENGTH_LABELS[score] };
}

// ---- generating ---------------------------------------------------------------------------

// Without look-alikes (0/O, 1/l/I) so it can be read out or typed from a screen.
export const UPPERS = "ABCDEFGHJKLMNPQRSTUVWXYZ";
export const LOWERS = "abcdefghijkmnopqrstuvwxyz";
export const DIGITS = "23456789";
export const SYMBOLS = "!#$%&*+-=?@^_~";

/** A uniformly random integer in `0..n`, from `random` (32-bit words). */
export type RandomWords = (count: number) => Uint32Array;

export const cryptoWords: RandomWords = (count) => {
  const words = new Uint32Array(count);
  crypto.getRandomValues(words);
  return words;
};

function randomBelow(n: number, random: RandomWords): number {
  // Rejection sampling: no bias towards the low values.
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    const [word] = random(1);
    if (word < limit) return word % n;
  }
}

function pick(alphabet: string, random: RandomWords): string {
  return alphabet[randomBelow(alphabet.length, random)];
}

/**
 * A random password meeting the policy: `preferred` characters (16) within the policy's
 * bounds, with at least one of every required class, in random order. Personal words are
 * avoided by drawing again.
 */
export function generatePassword(
  policy: Policy,
  personal: readonly string[] = [],
  random: RandomWords = cryptoWords,
  preferred = 16,
): string {
  const max = policy.maxLength > 0 ? policy.maxLength : Math.max(preferred, policy.minLength);
  const size = Math.max(Math.min(preferred, max), policy.minLength, 4);
  for (let attempt = 0; attempt < 50; attempt++) {
    const chars: string[] = [pick(UPPERS, random), pick(LOWERS, random), pick(DIGITS, random), pick(SYMBOLS, random)];
    const all = UPPERS + LOWERS + DIGITS + SYMBOLS;
    while (chars.length < size) chars.push(pick(all, random));
    // Fisher–Yates.
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomBelow(i + 1, random);
      [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    const candidate = chars.join("");
    if (checkPassword(candidate, policy, personal).ok) return candidate;
  }
  throw new Error("Could not generate a password for this policy.");
}
