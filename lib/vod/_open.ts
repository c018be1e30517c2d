/**
 * Which reader opens a file that is not FLV: raw H.264/H.265 elementary
 * streams by their extension (Sluice's own reader: mediabunny has none),
 * everything else by mediabunny, an ISO BMFF file only after its boxes
 * passed {@link checkMp4Boxes}, and no file may take longer than
 * `OPEN_TIMEOUT_MS` to open.
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
 * `head`); the source closes the handle, and so does a failure.
 */
export async function openMedia(
  handle: FileHandle,
  size: number,
  path: string,
  head: Uint8Array,
): Promise<VodSource> {
  const es = esCodecOf(path);
  if (es !== undefined) return await openEs(handle, size, es);
  if (looksLikeMp4(head)) {
    await checkMp4Boxes(async (offset, length) => {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    }, size);
  }
  const opening = openMediabunny(handle, size);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // what opens after all is closed at once
      opening.then((s) => s.close(), () => {});
      reject(
        new VodFormatError(`not opened within ${OPEN_TIMEOUT_MS / 1000} s`),
      );
    }, OPEN_TIMEOUT_MS);
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
