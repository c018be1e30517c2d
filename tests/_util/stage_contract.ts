/**
 * The contract every parsing stage keeps: random and mutated input yields
 * output or a ProtocolError (never another throw or a hang), and its input is
 * left unchanged.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../lib/errors.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect } from "./bytes.ts";

/** Options of {@link checkStageContract}. */
export interface StageContractOptions<O> {
  /** Valid inputs to mutate (flip, cut, insert bytes). */
  fixtures: Uint8Array[];
  /** Runs per property. @default {300} */
  runs?: number;
  /** Extra check on whatever was produced. */
  checkOutput?: (items: O[]) => void;
  /** Also call `end()` after the input. @default {true} */
  callEnd?: boolean;
}

function runOnce<O>(
  makeCore: () => StageCore<Uint8Array, O>,
  parts: Uint8Array[],
  options: StageContractOptions<O>,
): void {
  const core = makeCore();
  const out = collect<O>();
  const copies = parts.map((p) => p.slice());
  try {
    for (const p of parts) core.push(p, out);
    if (options.callEnd ?? true) core.end?.(out);
  } catch (e) {
    if (!(e instanceof ProtocolError)) {
      throw new assert.AssertionError({
        message: `stage threw ${(e as Error)?.name}: ${(e as Error)?.message}`,
      });
    }
  }
  parts.forEach((p, i) =>
    assert.deepEqual(p, copies[i], "stage modified its input")
  );
  options.checkOutput?.(out.items);
}

/** Runs random and mutated input through fresh cores of a stage. */
export function checkStageContract<O>(
  makeCore: () => StageCore<Uint8Array, O>,
  options: StageContractOptions<O>,
): void {
  const runs = options.runs ?? 300;
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 512 }), { maxLength: 8 }),
      (parts) => {
        runOnce(makeCore, parts, options);
      },
    ),
    { numRuns: runs },
  );
  if (options.fixtures.length === 0) return;
  const mutation = fc.record({
    which: fc.nat(),
    edits: fc.array(
      fc.record({
        kind: fc.constantFrom("flip", "cut", "insert"),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    split: fc.nat(),
  });
  fc.assert(
    fc.property(mutation, ({ which, edits, split }) => {
      let bytes = options.fixtures[which % options.fixtures.length]!.slice();
      for (const e of edits) {
        const at = bytes.length === 0 ? 0 : e.at % bytes.length;
        if (e.kind === "flip" && bytes.length > 0) bytes[at] = e.value;
        else if (e.kind === "cut") bytes = bytes.subarray(0, at).slice();
        else if (e.kind === "insert") {
          const next = new Uint8Array(bytes.length + 1);
          next.set(bytes.subarray(0, at));
          next[at] = e.value;
          next.set(bytes.subarray(at), at + 1);
          bytes = next;
        }
      }
      const cut = bytes.length === 0 ? 0 : split % bytes.length;
      runOnce(makeCore, [bytes.subarray(0, cut), bytes.subarray(cut)], options);
    }),
    { numRuns: runs },
  );
}
