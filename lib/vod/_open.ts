/**
 * Which reader opens a file that is not FLV: raw H.264/H.265 elementary
 * streams by their extension (Sluice's own reader: mediabunny has none),
 * everything else by mediabunny, an ISO BMFF file only after its boxes
 * passed {@link checkMp4Boxes}, and no file may take longer than
 * `OPEN_TIMEOUT_MS` to be checked and opened.
 *
 * @module
 */

import type { FileHandle } from "node:fs/promises";
import { checkMp4Boxes, looksLikeMp4 } from "./_mp4_guard.ts";
import { esCodecOf, openEs } from "./es_source.ts";
import { openMediabunny } from "./mediabunny_source.ts";
import { VodFormatError, type VodSource } from "./source.ts";

/** How long a demuxer may take to read a file's tracks and duration. */
export const OPEN_TIMEOUT_MS = 10_000;

/**
 * Opens `handle` (the confined file `path`, `size` bytes, first bytes
 * `head`); the source closes the handle, and so does a failure. Checking
 * and opening by mediabunny may take `timeoutMs` at most.
 */
export async function openMedia(
  handle: FileHandle,
  size: number,
  path: string,
  head: Uint8Array,
  timeoutMs = OPEN_TIMEOUT_MS,
): Promise<VodSource> {
  const es = esCodecOf(path);
  if (es !== undefined) return await openEs(handle, size, es);
  const opening = (async () => {
    if (looksLikeMp4(head)) {
      await checkMp4Boxes(async (offset, length) => {
        const n = Math.max(0, Math.min(length, size - offset));
        const buf = new Uint8Array(n);
        const { bytesRead } = await handle.read(buf, 0, n, offset);
        return buf.subarray(0, bytesRead);
      }, size);
    }
    return await openMediabunny(handle, size);
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // what opens after all is closed at once
      opening.then((s) => s.close(), () => {});
      reject(new VodFormatError(`not opened within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    const source = await Promise.race([opening, late]);
    const close = source.close.bind(source);
    source.close = () => {
      close();
      void handle.close().catch(() => {});
    };
    return source;
  } finally {
    clearTimeout(timer);
  }
}
