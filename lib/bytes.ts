/**
 * Byte helpers with the names and signatures of `@std/bytes`.
 *
 * The import map points `@std/bytes` here because JSR is out of reach on the
 * machines Sluice is built on; swapping in `jsr:@std/bytes` is a one-line
 * change in `deno.json`.
 *
 * @module
 */

/** Joins buffers into one new buffer of exactly their summed length. */
export function concat(
  buffers: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const b of buffers) length += b.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const b of buffers) {
    out.set(b, offset);
    offset += b.length;
  }
  return out;
}

/**
 * Copies `src` into `dst` at `offset`, as much as fits; returns the number of
 * bytes copied.
 */
export function copy(src: Uint8Array, dst: Uint8Array, offset = 0): number {
  offset = Math.max(0, Math.min(offset, dst.byteLength));
  const room = dst.byteLength - offset;
  const part = src.byteLength > room ? src.subarray(0, room) : src;
  dst.set(part, offset);
  return part.byteLength;
}

/** Whether `a` and `b` hold the same bytes. */
export function equals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `source` starts with `prefix`. */
export function startsWith(source: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > source.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (source[i] !== prefix[i]) return false;
  }
  return true;
}

/** Whether `source` ends with `suffix`. */
export function endsWith(source: Uint8Array, suffix: Uint8Array): boolean {
  const shift = source.length - suffix.length;
  if (shift < 0) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (source[shift + i] !== suffix[i]) return false;
  }
  return true;
}

/** First index of `needle` in `source` at or after `start`, or -1. */
export function indexOfNeedle(
  source: Uint8Array,
  needle: Uint8Array,
  start = 0,
): number {
  if (start < 0) start = Math.max(0, source.length + start);
  if (needle.length === 0) return start <= source.length ? start : -1;
  const first = needle[0]!;
  const last = source.length - needle.length;
  outer: for (let i = start; i <= last; i++) {
    if (source[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) {
      if (source[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Last index of `needle` in `source` at or before `start`, or -1. */
export function lastIndexOfNeedle(
  source: Uint8Array,
  needle: Uint8Array,
  start: number = source.length - 1,
): number {
  if (start < 0) return -1;
  if (needle.length === 0) return Math.min(start, source.length);
  let i = Math.min(start, source.length - needle.length);
  outer: for (; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) {
      if (source[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** Whether `needle` occurs in `source` at or after `start`. */
export function includesNeedle(
  source: Uint8Array,
  needle: Uint8Array,
  start = 0,
): boolean {
  return indexOfNeedle(source, needle, start) !== -1;
}

/** `source` repeated `count` times in one new buffer. */
export function repeat(
  source: Uint8Array,
  count: number,
): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot repeat bytes: count "${count}" is not a whole number >= 0`,
    );
  }
  const out = new Uint8Array(source.length * count);
  for (let i = 0; i < count; i++) out.set(source, i * source.length);
  return out;
}
