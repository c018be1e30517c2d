/**
 * Property checks for pure parsers: random and mutated bytes give a result or
 * a ProtocolError, never another throw, and the input is left unchanged.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../lib/errors.ts";

/** Flips, cuts and inserts bytes of a fixture. */
export function mutated(fixtures: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({
    kind: fc.constantFrom("flip", "cut", "insert"),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  });
  return fc.record({
    which: fc.nat(),
    edits: fc.array(edit, { minLength: 1, maxLength: 6 }),
  }).map(
    ({ which, edits }) => {
      let bytes = fixtures[which % fixtures.length]!.slice();
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % bytes.length;
        if (e.kind === "flip" && bytes.length > 0) bytes[at] = e.value;
        else if (e.kind === "cut") bytes = bytes.slice(0, at);
        else if (e.kind === "insert") {
          const next = new Uint8Array(bytes.length + 1);
          next.set(bytes.subarray(0, at));
          next[at] = e.value;
          next.set(bytes.subarray(at), at + 1);
          bytes = next;
        }
      }
      return bytes;
    },
  );
}

/** Runs `parse` on random bytes and on mutated fixtures. */
export function checkParser(
  parse: (bytes: Uint8Array) => unknown,
  fixtures: Uint8Array[],
  runs = 300,
): void {
  const once = (bytes: Uint8Array) => {
    const copy = bytes.slice();
    try {
      parse(bytes);
    } catch (e) {
      if (!(e instanceof ProtocolError)) {
        throw new assert.AssertionError({
          message: `parser threw ${(e as Error)?.name}: ${
            (e as Error)?.message
          }`,
        });
      }
    }
    assert.deepEqual(bytes, copy, "parser modified its input");
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), once), {
    numRuns: runs,
  });
  if (fixtures.length > 0) {
    fc.assert(fc.property(mutated(fixtures), once), { numRuns: runs });
  }
}

/** Bytes of a file under tests/testdata/. */
export function testdata(path: string): Uint8Array<ArrayBuffer> {
  return Deno.readFileSync(new URL(`../testdata/${path}`, import.meta.url));
}
