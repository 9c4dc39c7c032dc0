// One way to turn whatever was thrown (an Error, a WorkerError, a string from a rejected promise)
// into the sentence the page shows.

/** The message of an Error, or the thrown value as text. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
