import { describe, expect, it } from "vitest";
import { CommandFailure, messageOf, problemOf } from "./api";

describe("a problem a person reads", () => {
  const keychain = new CommandFailure({
    code: "keychainUnavailable",
    message: "No keychain is running.",
    fix: "Install GNOME Keyring and sign in to a desktop session.",
    detail: "org.freedesktop.DBus.Error.ServiceUnknown: unix:path=/run/user/1000/bus",
    fields: [],
    retryAfterSeconds: null,
  });

  it("is one sentence, with the fix and the cause apart", () => {
    const problem = problemOf(keychain);
    expect(problem.text).toBe("No keychain is running.");
    expect(problem.fix).toContain("GNOME Keyring");
    expect(problem.detail).toContain("/run/user/1000/bus");
    expect(problem.text).not.toContain("/run/user");
    expect(messageOf(keychain)).toBe("No keychain is running.");
  });

  it("takes the screen's own sentences and the engine's notices", () => {
    expect(problemOf("Enter your password.")).toEqual({ text: "Enter your password.", fix: null, detail: null });
    expect(problemOf({ text: "Your sign-in is not saved.", fix: "Unlock it.", detail: null })).toEqual({
      text: "Your sign-in is not saved.",
      fix: "Unlock it.",
      detail: null,
    });
  });

  it("keeps a bug's words out of the sentence", () => {
    const problem = problemOf(new TypeError("x is undefined"));
    expect(problem.text).toBe("Something went wrong.");
    expect(problem.detail).toBe("x is undefined");
    expect(problemOf(42).text).toBe("Something went wrong.");
  });
});
