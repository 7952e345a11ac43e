import { describe, expect, it } from "vitest";
import { clause, cleanCode, signInMessage } from "./messages";

describe("sign-in messages", () => {
  it("explains each failure", () => {
    expect(signInMessage("unauthorized", "x", "password")).toMatch(/don't match/);
    expect(signInMessage("unauthorized", "x", "mfa")).toMatch(/code/);
    expect(signInMessage("unauthorized", "x", "token")).toMatch(/token/);
    expect(signInMessage("offline", "Cannot reach acme.test.", "password")).toBe("You can't sign in right now: cannot reach acme.test.");
    expect(signInMessage("rateLimited", "", "password", 30)).toBe("Too many attempts. Try again in 30 seconds.");
    expect(signInMessage("keychainUnavailable", "No keychain is running.", "password")).toBe(
      "Your sign-in can't be kept: no keychain is running.",
    );
    expect(clause("SCIM is off.")).toBe("SCIM is off");
    expect(signInMessage("server", "Boom.", "password")).toBe("Boom.");
  });

  it("cleans a typed code", () => {
    expect(cleanCode("123 456")).toBe("123456");
    expect(cleanCode("1234567")).toBe("123456");
  });
});
