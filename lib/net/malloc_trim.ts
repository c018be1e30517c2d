/**
 * Gives the C heap's free pages back to the kernel every few seconds
 * (glibc's `malloc_trim(3)`, through FFI), and only then.
 *
 * Media buffers live in the C heap (V8 allocates ArrayBuffer memory with
 * `malloc`). A thousand readers joining at once take a GOP each in pieces,
 * which are freed a moment later; the heap keeps the pages they used, among
 * the blocks of longer-lived connections, so the process holds megabytes it
 * no longer uses until `malloc_trim` releases them. One call takes about a
 * millisecond with a thousand readers.
 *
 * Between the calls the heap keeps its free top: glibc would otherwise
 * shrink it whenever 128 KiB at its end are free, several times a second
 * under load, and the next buffers would fault fresh pages in again, each
 * one zeroed by the kernel (`mallopt(3)`: `M_TRIM_THRESHOLD`, and
 * `M_TOP_PAD` so that the heap grows in steps that last).
 *
 * @module
 */

import { loadNative, size } from "./_libc.ts";

/** How often free pages are given back, by default. */
export const MALLOC_TRIM_INTERVAL_MS = 5000;
/** `mallopt` parameters (<malloc.h>). */
const M_TRIM_THRESHOLD = -1;
const M_TOP_PAD = -2;
/** Free bytes at the heap's top that stay until the next trim. */
const TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024;
/** What the heap grows by beyond a request. */
const TOP_PAD_BYTES = 16 * 1024 * 1024;

/**
 * Starts trimming every `intervalMs`; returns the function that stops it.
 * Does nothing (and says so with `started: false`) where FFI is not
 * granted or the C library has no `malloc_trim`; `keepsTop` says whether
 * the C library took the heap's policy between trims. The timer never
 * keeps the process alive.
 */
export function startMallocTrim(
  intervalMs = MALLOC_TRIM_INTERVAL_MS,
): { started: boolean; keepsTop: boolean; stop(): void } {
  const native = loadNative();
  if (native === null) {
    return { started: false, keepsTop: false, stop() {} };
  }
  let keepsTop = false;
  try {
    // mallopt answers 1 where it took the value
    keepsTop = native.libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) ===
        1 && native.libc.mallopt(M_TOP_PAD, TOP_PAD_BYTES) === 1;
  } catch {
    // a C library without it: its own policy stays
  }
  const timer = setInterval(() => {
    try {
      native.libc.malloc_trim(size(0));
    } catch {
      // a C library without it: nothing to give back
    }
  }, intervalMs);
  Deno.unrefTimer(timer);
  return { started: true, keepsTop, stop: () => clearInterval(timer) };
}
