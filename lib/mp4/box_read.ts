/**
 * Walking boxes already in memory (ISO/IEC 14496-12 §4.2): the children of
 * a box body, each with its type and where its body lies. A size that lies
 * (below the header or past the parent) ends the walk.
 *
 * @module
 */

/** Children of the box body `b[start, end)`: [type, bodyStart, end]. */
export function* boxChildren(
  b: Uint8Array,
  start: number,
  end: number,
): Generator<[string, number, number]> {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = start;
  while (pos + 8 <= end) {
    const size = view.getUint32(pos);
    if (size < 8 || pos + size > end) return;
    yield [fourCcAt(b, pos + 4), pos + 8, pos + size];
    pos += size;
  }
}

/** The four characters at `b[at, at + 4)`. */
export function fourCcAt(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}
