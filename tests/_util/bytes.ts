/** Byte fixtures for tests: hex literals, split points, and a collecting sink. */
import type { Sink } from "../../lib/stage.ts";

/** Bytes from hex digits; spaces, newlines and `|` (field separators) are ignored. */
export function hex(text: string): Uint8Array<ArrayBuffer> {
  const digits = text.replace(/[\s|]/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) {
    throw new TypeError(
      `Cannot read hex fixture "${text}": odd length or not hex`,
    );
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/** Hex string of bytes (for assertion messages). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** ASCII bytes of a string. */
export function ascii(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

/**
 * Every way to cut `bytes` in two (and, for inputs up to `maxThree` bytes, in
 * three), plus one piece and one byte at a time.
 */
export function* splitsOf(
  bytes: Uint8Array,
  maxThree = 64,
): Generator<Uint8Array[]> {
  yield [bytes];
  for (let i = 1; i < bytes.length; i++) {
    yield [bytes.subarray(0, i), bytes.subarray(i)];
  }
  if (bytes.length <= maxThree) {
    for (let i = 1; i < bytes.length; i++) {
      for (let j = i + 1; j < bytes.length; j++) {
        yield [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
      }
    }
  }
  yield Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** A sink that keeps what it is given. */
export interface Collector<T> extends Sink<T> {
  items: T[];
}

/** A {@link Sink} that collects items. */
export function collect<T>(): Collector<T> {
  const items: T[] = [];
  return { items, enqueue: (x: T) => void items.push(x) };
}
