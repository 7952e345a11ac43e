import { describe, expect, it } from "vitest";
import { call, CommandFailure, messageOf, onAccountStepRequired, onReauthenticate, problemOf } from "./api";
import type { Code } from "./bindings";

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

describe("a change that needs a recent sign-in", () => {
  const refusal = {
    status: "error" as const,
    error: {
      code: "reauthenticate" as Code,
      message: "Sign in again to do this.",
      fix: null,
      detail: null,
      fields: [],
      retryAfterSeconds: null,
    },
  };

  it("asks for the password, then sends the change once more", async () => {
    const sent: string[] = [];
    let prompts = 0;
    onReauthenticate(async () => {
      prompts += 1;
      return true;
    });
    const send = async () => {
      sent.push("set-password");
      return sent.length === 1 ? refusal : { status: "ok" as const, data: "done" };
    };
    await expect(call(send)).resolves.toBe("done");
    expect(prompts).toBe(1);
    expect(sent).toHaveLength(2);
    onReauthenticate(null);
  });

  it("does not resend when the person cancels, and says so when it cannot resend", async () => {
    let sent = 0;
    onReauthenticate(async () => false);
    const send = async () => {
      sent += 1;
      return refusal;
    };
    await expect(call(send)).rejects.toMatchObject({ code: "reauthenticate" });
    expect(sent).toBe(1);
    onReauthenticate(async () => true);
    await expect(call(Promise.resolve(refusal))).rejects.toThrow(/repeat the change/);
    onReauthenticate(null);
  });

  it("tells the app when the password must be changed first", async () => {
    let told = 0;
    onAccountStepRequired(() => (told += 1));
    const mustChange = { ...refusal, error: { ...refusal.error, code: "mustChangePassword" as Code } };
    await expect(call(Promise.resolve(mustChange))).rejects.toMatchObject({ code: "mustChangePassword" });
    expect(told).toBe(1);
    onAccountStepRequired(null);
  });
});

describe("a refused password", () => {
  it("names the rules it breaks by id, not by the sentence", () => {
    const refused = new CommandFailure({
      code: "validation",
      message: "This password is too common.",
      fix: null,
      detail: null,
      fields: [{ field: "password", message: "This password is too common.", rules: ["common"] }],
      retryAfterSeconds: null,
    });
    expect(refused.rules("password")).toEqual(["common"]);
    expect(refused.rules("email")).toEqual([]);
    expect(refused.field("password")).toBe("This password is too common.");
  });
});
