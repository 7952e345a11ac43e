// One way to call the Rust side: every command's `{status, data | error}` becomes a value
// or a thrown `CommandFailure`, so screens write `await call(commands.x(...))` and show
// `failure.message` (and `failure.fields` for forms). Errors never hold secrets.
import type { CommandError } from "./bindings";

/** What every generated command returns. */
export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class CommandFailure extends Error {
  readonly code: string;
  readonly fields: { field: string; message: string }[];
  readonly retryAfterSeconds: number | null;

  constructor(error: CommandError) {
    super(error.message);
    this.name = "CommandFailure";
    this.code = error.code;
    this.fields = error.fields;
    this.retryAfterSeconds = error.retryAfterSeconds ?? null;
  }

  /** The message for one form field, if the server or the engine named it. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name || f.field.endsWith(`.${name}`))?.message;
  }
}

export async function call<T>(pending: Promise<Result<T, CommandError>>): Promise<T> {
  const result = await pending;
  if (result.status === "ok") return result.data;
  throw new CommandFailure(result.error);
}

/** A message for anything thrown: a command's own words, or a plain fallback. */
export function messageOf(error: unknown): string {
  if (error instanceof CommandFailure) return error.message;
  if (error instanceof Error) return `Something went wrong: ${error.message}`;
  return "Something went wrong.";
}
