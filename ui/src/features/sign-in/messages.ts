// What the sign-in screen says when a sign-in fails, and how it reads a typed code. Pure,
// unit-tested in messages.test.ts.

/** What a failed sign-in says, by the engine's error code. */
export function signInMessage(
  code: string,
  message: string,
  step: "password" | "mfa" | "token",
  retryAfterSeconds: number | null = null,
): string {
  switch (code) {
    case "unauthorized":
      if (step === "mfa") return "That code didn't work. Codes change every 30 seconds: type the one your app shows now.";
      if (step === "token") return "The server refused this token. Check that it is complete and has not been revoked.";
      return "That email and password don't match. Check them and try again.";
    case "offline":
      return `You can't sign in right now: ${clause(message) || "the server can't be reached"}.`;
    case "rateLimited":
      return retryAfterSeconds
        ? `Too many attempts. Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}.`
        : "Too many attempts. Wait a minute and try again.";
    case "keychainUnavailable":
      return `Your sign-in can't be kept: ${clause(message) || "the system keychain can't be used"}.`;
    default:
      return message;
  }
}

/** A sentence as a clause after a colon: "Cannot reach acme.test." → "cannot reach acme.test". */
export function clause(sentence: string): string {
  const trimmed = sentence.trim().replace(/\.$/, "");
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0].toLowerCase() + trimmed.slice(1) : trimmed;
}

/** A six-digit authenticator code, with spaces allowed while typing. */
export function cleanCode(value: string): string {
  return value.replace(/\D/g, "").slice(0, 6);
}
