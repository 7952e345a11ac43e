import { describe, expect, it } from "vitest";
import {
  checkPassword,
  containsPersonal,
  DIGITS,
  generatePassword,
  hasSpecial,
  LOWERS,
  personalWords,
  strength,
  SYMBOLS,
  UPPERS,
  type Policy,
  type RandomWords,
} from "./password";

const shop: Policy = {
  minLength: 12,
  maxLength: 128,
  requireUpper: true,
  requireLower: true,
  requireDigit: true,
  requireSpecial: true,
  denyCommonPasswords: true,
};

const nist: Policy = {
  minLength: 8,
  maxLength: 128,
  requireUpper: false,
  requireLower: false,
  requireDigit: false,
  requireSpecial: false,
  denyCommonPasswords: true,
};

function ticks(password: string, policy: Policy, personal: string[] = []) {
  return Object.fromEntries(checkPassword(password, policy, personal).rules.map((r) => [r.id, r.ok]));
}

/** A deterministic stand-in for crypto.getRandomValues. */
function seeded(seed: number): RandomWords {
  let state = seed >>> 0;
  return (count) => {
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out[i] = state;
    }
    return out;
  };
}

describe("checkPassword", () => {
  it("ticks each rule of the shop policy", () => {
    expect(ticks("", shop)).toEqual({ length: false, upper: false, lower: false, digit: false, special: false, personal: false, common: null });
    expect(ticks("abc", shop)).toMatchObject({ length: false, lower: true, upper: false });
    expect(ticks("Muster-Demo-2026!", shop)).toEqual({ length: true, upper: true, lower: true, digit: true, special: true, personal: true, common: null });
    expect(checkPassword("Muster-Demo-2026!", shop).ok).toBe(true);
    expect(checkPassword("muster-demo-2026!", shop).ok).toBe(false);
  });

  it("lists only the rules the policy has", () => {
    expect(checkPassword("longenough", nist).rules.map((r) => r.id)).toEqual(["length", "personal", "common"]);
    expect(checkPassword("longenough", nist).ok).toBe(true);
    expect(checkPassword("short", nist).ok).toBe(false);
    expect(checkPassword("x", { ...nist, denyCommonPasswords: false }).rules.map((r) => r.id)).toEqual(["length", "personal"]);
  });

  it("counts characters, not UTF-16 units, and enforces the maximum", () => {
    expect(ticks("😀😀😀😀😀😀😀", nist).length).toBe(false);
    expect(ticks("😀😀😀😀😀😀😀😀", nist).length).toBe(true);
    expect(ticks("a".repeat(129), nist).length).toBe(false);
  });

  it("treats anything but letters and digits as special, spaces included", () => {
    expect(hasSpecial("abc def")).toBe(true);
    expect(hasSpecial("abcdéf123")).toBe(false);
    expect(ticks("ÉCOLE école 1", shop)).toMatchObject({ upper: true, lower: true, digit: true, special: true });
  });

  it("refuses personal words of four or more characters, ignoring case", () => {
    const words = personalWords({ userName: "jane.doe@shop.test", email: "jane.doe@shop.test", givenName: "Jane", familyName: "Doe" });
    expect(words).toEqual(["jane.doe@shop.test", "jane.doe", "Jane", "Doe"]);
    expect(containsPersonal("xxJANExx", words)).toBe(true);
    expect(containsPersonal("Doe-is-fine-1!", words)).toBe(false);
    expect(ticks("Correct-Horse-Jane-9", shop, words).personal).toBe(false);
    // Pieces of generated ids are not personal words.
    expect(containsPersonal("Zz4b1c!!", ["user-4b1c"])).toBe(false);
    expect(containsPersonal("Zzuser!!", ["user-4b1c"])).toBe(true);
  });
});

describe("strength", () => {
  it("grows with length and variety and drops for repeats", () => {
    expect(strength("").score).toBe(0);
    expect(strength("aaaaaaaaaaaa").score).toBe(0);
    expect(strength("abcdefgh").score).toBeLessThanOrEqual(1);
    expect(strength("password").score).toBeLessThanOrEqual(1);
    expect(strength("k7#Qp2!vX9mZ&4rT").score).toBe(4);
    expect(strength("Muster-Demo-2026!").score).toBeGreaterThanOrEqual(3);
    expect(strength("abcdefgh").score).toBeLessThan(strength("aZ3!kq9#Lm").score);
  });

  it("has a label for each score", () => {
    expect(strength("").label).toBe("Too weak");
    expect(strength("k7#Qp2!vX9mZ&4rT").label).toBe("Strong");
  });
});

describe("generatePassword", () => {
  it("meets the shop policy, 16 characters by default", () => {
    for (let seed = 1; seed < 200; seed++) {
      const password = generatePassword(shop, [], seeded(seed));
      expect(password).toHaveLength(16);
      expect(checkPassword(password, shop).ok).toBe(true);
    }
  });

  it("uses only unambiguous characters", () => {
    const alphabet = new Set(UPPERS + LOWERS + DIGITS + SYMBOLS);
    const password = generatePassword(shop, [], seeded(7), 64);
    expect([...password].every((c) => alphabet.has(c))).toBe(true);
    expect(password).not.toMatch(/[0O1lI]/);
  });

  it("stays within the policy's length bounds", () => {
    expect(generatePassword({ ...shop, minLength: 20 }, [], seeded(3))).toHaveLength(20);
    expect(generatePassword({ ...shop, maxLength: 12 }, [], seeded(3))).toHaveLength(12);
  });

  it("draws different passwords", () => {
    const a = generatePassword(shop, [], seeded(1));
    const b = generatePassword(shop, [], seeded(2));
    expect(a).not.toBe(b);
  });

  it("uses the platform's random numbers by default", () => {
    const password = generatePassword(shop);
    expect(checkPassword(password, shop).ok).toBe(true);
  });
});
