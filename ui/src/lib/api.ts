// One way to call the Rust side: every command's `{status, data | error}` becomes a value
// or a thrown `CommandFailure`, so screens write `await call(commands.x(...))` and show
// the failure with <ErrorBox> (its one-sentence message, "How to fix" and "Details"
// behind toggles; `failure.fields` for forms). Errors never hold secrets.
import type { Code, CommandError, FieldError } from "./bindings";

/** What every generated command returns. */
export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class CommandFailure extends Error {
  readonly code: Code;
  readonly fields: FieldError[];
  readonly retryAfterSeconds: number | null;
  /** The steps that solve it, when a person can. */
  readonly fix: string | null;
  /** The technical cause, kept behind a "Details" toggle. */
  readonly detail: string | null;

  constructor(error: CommandError) {
    super(error.message);
    this.name = "CommandFailure";
    this.code = error.code;
    this.fix = error.fix ?? null;
    this.detail = error.detail ?? null;
    this.fields = error.fields;
    this.retryAfterSeconds = error.retryAfterSeconds ?? null;
  }

  /** The message for one form field, if the server or the engine named it. */
  field(name: string): string | undefined {
    return this.problem(name)?.message;
  }

  /** The ids of the server's rules one form field's value breaks (a refused password's). */
  rules(name: string): string[] {
    return this.problem(name)?.rules ?? [];
  }

  private problem(name: string): FieldError | undefined {
    return this.fields.find((f) => f.field === name || f.field.endsWith(`.${name}`));
  }
}

/** A command's answer, or (for a change that may be repeated) a function that sends it. */
export type Pending<T> = Promise<Result<T, CommandError>> | (() => Promise<Result<T, CommandError>>);

/**
 * Asks the person for their password again (the dialog the app mounts); true once the
 * server has accepted it, false if they cancelled.
 */
type Reauthenticator = (failure: CommandFailure) => Promise<boolean>;
let reauthenticator: Reauthenticator | null = null;
let stepListener: (() => void) | null = null;

/** The app's re-authentication prompt, used when the server answers `reauthenticate`. */
export function onReauthenticate(handler: Reauthenticator | null): void {
  reauthenticator = handler;
}

/**
 * Told when the server answers that the account has something to do first
 * (`mustChangePassword`, `mfaEnrollmentRequired`): the app then shows that screen.
 */
export function onAccountStepRequired(handler: (() => void) | null): void {
  stepListener = handler;
}

/**
 * The value of a command, or a thrown `CommandFailure`. When the server asks for the
 * password again (`reauthenticate`, a change to credentials long after signing in), the
 * prompt opens; given a function, the change is then sent once more, so the person only
 * types their password. Given a promise, it cannot be resent: the failure says to repeat it.
 */
export async function call<T>(pending: Pending<T>): Promise<T> {
  const send = typeof pending === "function" ? pending : null;
  const result = await (send ? send() : (pending as Promise<Result<T, CommandError>>));
  if (result.status === "ok") return result.data;
  const failure = new CommandFailure(result.error);
  if (failure.code === "mustChangePassword" || failure.code === "mfaEnrollmentRequired") stepListener?.();
  if (failure.code === "reauthenticate" && reauthenticator && (await reauthenticator(failure))) {
    if (send) return call(send);
    throw new CommandFailure({ ...result.error, message: "You have signed in again: repeat the change now.", fix: null });
  }
  throw failure;
}

/** A message for anything thrown: a command's own words, or a plain fallback. */
export function messageOf(error: unknown): string {
  if (error instanceof CommandFailure) return error.message;
  if (error instanceof Error) return `Something went wrong: ${error.message}`;
  return "Something went wrong.";
}

/** What a person reads about a problem: one sentence, how to fix it, the technical cause. */
export type Problem = { text: string; fix: string | null; detail: string | null };

/**
 * Anything shown as a problem (a caught failure, a sentence of the screen's own, a notice
 * from the engine) as its three layers.
 */
export function problemOf(error: unknown): Problem {
  if (typeof error === "string") return { text: error, fix: null, detail: null };
  if (error instanceof CommandFailure) return { text: error.message, fix: error.fix, detail: error.detail };
  if (error instanceof Error) return { text: "Something went wrong.", fix: null, detail: error.message };
  if (error && typeof error === "object" && "text" in error && typeof error.text === "string") {
    const notice = error as { text: string; fix?: string | null; detail?: string | null };
    return { text: notice.text, fix: notice.fix ?? null, detail: notice.detail ?? null };
  }
  return { text: "Something went wrong.", fix: null, detail: null };
}
