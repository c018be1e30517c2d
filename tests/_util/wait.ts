/** Waiting in tests: bounded polling for a condition. */

/** Polls `check` every 20 ms until it holds; throws with `describe()` after `timeoutMs`. */
export async function until(
  check: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
