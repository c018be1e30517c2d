/**
 * Gives the C heap's free pages back to the kernel every few seconds
 * (glibc's `malloc_trim(3)`, through FFI).
 *
 * Media buffers live in the C heap (V8 allocates ArrayBuffer memory with
 * `malloc`). A thousand readers joining at once take a GOP each in pieces,
 * which are freed a moment later; the heap keeps the pages they used, among
 * the blocks of longer-lived connections, so the process holds megabytes it
 * no longer uses until `malloc_trim` releases them. One call takes about a
 * millisecond with a thousand readers.
 *
 * @module
 */

import { loadNative, size } from "./_poller.ts";

/** How often free pages are given back, by default. */
export const MALLOC_TRIM_INTERVAL_MS = 5000;

/**
 * Starts trimming every `intervalMs`; returns the function that stops it.
 * Does nothing (and says so with `started: false`) where FFI is not
 * granted or the C library has no `malloc_trim`. The timer never keeps the
 * process alive.
 */
export function startMallocTrim(
  intervalMs = MALLOC_TRIM_INTERVAL_MS,
): { started: boolean; stop(): void } {
  const native = loadNative();
  if (native === null) return { started: false, stop() {} };
  const timer = setInterval(() => {
    try {
      native.libc.malloc_trim(size(0));
    } catch {
      // a C library without it: nothing to give back
    }
  }, intervalMs);
  Deno.unrefTimer(timer);
  return { started: true, stop: () => clearInterval(timer) };
}
