/**
 * Whole reads from a file, for the readers of recorded segments.
 *
 * @module
 */

/** Fills `buf` from the file; false at the end of it. */
export async function readFull(
  f: Deno.FsFile,
  buf: Uint8Array,
): Promise<boolean> {
  let done = 0;
  while (done < buf.length) {
    const n = await f.read(buf.subarray(done));
    if (n === null) return false;
    done += n;
  }
  return true;
}
