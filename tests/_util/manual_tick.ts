/**
 * A shared tick run by hand, as outputs see it (`OutputTick`): what they
 * defer waits until `run()`.
 *
 * @module
 */

/** A tick that runs its deferred tasks when the test says so. */
export function manualTick(intervalMs = 100) {
  let tasks: { run(): void }[] = [];
  return {
    intervalMs,
    defer(task: { run(): void }) {
      tasks.push(task);
    },
    /** Runs what was deferred before this call. */
    run() {
      const now = tasks;
      tasks = [];
      for (const t of now) t.run();
    },
    /** Tasks deferred and not yet run. */
    get waiting() {
      return tasks.length;
    },
  };
}
