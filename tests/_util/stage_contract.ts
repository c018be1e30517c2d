/**
 * The contract every parsing stage keeps (STYLE.md §9), checked in order:
 *
 * 1. Each fixture, pushed whole and ended, gives output and no error; the
 *    output matches the fixture's `expect` when it has one.
 * 2. Each fixture split at every byte (two parts per split point, and one
 *    byte at a time) gives the same output; a fixture over `maxSplitAll`
 *    bytes gets `randomSplits` random multi-way splits instead.
 * 3. With an `encode`, the output encodes back: to the fixture's bytes
 *    (`"bytes"`), or, where the format allows more than one encoding, to
 *    bytes that decode to the same output (`"items"`).
 * 4. Random and mutated bytes give output or an expected error (a
 *    ProtocolError unless `isExpectedError` says otherwise), never another
 *    throw, nor a run slower than `maxRunMs`; with an `encode`, what they
 *    decode to encodes to bytes that decode to the same.
 * 5. Throughout, the input bytes are left unchanged, by the stage and by
 *    `encode`.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../lib/errors.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect, toHex } from "./bytes.ts";

/** How `decode → encode` must come back: the exact bytes, the same output, or not at all. */
export type RoundTrip = "bytes" | "items" | false;

/** One valid input of a stage. */
export interface StageFixture {
  /** Names the fixture in failure messages. */
  name: string;
  /** What is pushed. */
  bytes: Uint8Array;
  /**
   * The output of the clean run, as `normalize` gives it (the items
   * themselves by default); without it, the output must not be empty.
   */
  expect?: unknown;
  /** Overrides the contract's `roundTrip` for this fixture. */
  roundTrip?: RoundTrip;
}

/** Options of {@link checkStageContract}. */
export interface StageContractOptions<O> {
  /** Valid inputs: run clean, split, round-tripped and mutated. */
  fixtures: StageFixture[];
  /** Extra check on each fixture's clean output. */
  check?: (items: O[], fixture: StageFixture) => void;
  /**
   * What outputs are compared as: for output `deepEqual` cannot see into
   * (classes with `#private` fields) or that differs by design (random bytes).
   * @default {the items themselves}
   */
  normalize?: (items: O[]) => unknown;
  /** The stage's muxer or encoder: output items back to bytes. */
  encode?: (items: O[]) => Uint8Array;
  /** How fixtures round-trip through `encode`. @default {"bytes"} */
  roundTrip?: RoundTrip;
  /**
   * What `decode(encode(decode(x)))` and `decode(x)` are compared as, when
   * the encoder derives some fields itself (RTSP's Content-Length).
   * @default {normalize}
   */
  normalizeRoundTrip?: (items: O[]) => unknown;
  /** Also round-trip what random and mutated input decodes to (step 4). @default {true} */
  roundTripMutated?: boolean;
  /** Errors the stage may throw on bad input. @default {ProtocolError} */
  isExpectedError?: (e: unknown) => boolean;
  /**
   * Random inputs, and as many mutated ones; `STAGE_CONTRACT_RUNS` in the
   * environment overrides it for a longer hunt. @default {200}
   */
  runs?: number;
  /** Largest fixture split at every byte; larger ones get random splits. @default {4096} */
  maxSplitAll?: number;
  /** Random multi-way splits of a fixture over `maxSplitAll`. @default {24} */
  randomSplits?: number;
  /** Slowest acceptable run on random or mutated input. @default {1000} */
  maxRunMs?: number;
}

/** Checks the stage contract on fresh cores from `makeCore`; an AssertionError names the fixture or input. */
export function checkStageContract<O>(
  makeCore: () => StageCore<Uint8Array, O>,
  options: StageContractOptions<O>,
): void {
  const c = new Contract(makeCore, options);
  for (const fixture of options.fixtures) {
    // The stage gets a copy: a stage that writes to its input fails here
    // without spoiling the caller's fixture for later checks.
    const bytes = fixture.bytes.slice();
    const items = c.clean(fixture, bytes);
    c.splits(fixture.name, bytes, c.normalize(items));
    const mode = fixture.roundTrip ?? options.roundTrip ?? "bytes";
    if (options.encode === undefined || mode === false) continue;
    if (mode === "items") c.roundTrip(items, bytes, fixture.name);
    else {
      const encoded = c.encode(items, bytes);
      assertBytes(encoded, fixture.bytes, `${fixture.name}: decode → encode`);
    }
  }
  c.badInput();
}

/**
 * The core of a decoder that takes one whole unit (a datagram, a message
 * payload): it joins what is pushed and decodes it at `end()`, so splits
 * check that it reads its input, not how the input was cut.
 */
export function wholeInput<O>(
  decode: (bytes: Uint8Array) => O[],
): () => StageCore<Uint8Array, O> {
  return () => {
    const parts: Uint8Array[] = [];
    return {
      push: (chunk) => void parts.push(chunk),
      end: (out) => {
        for (const item of decode(join(parts))) out.enqueue(item);
      },
    };
  };
}

interface Outcome<O> {
  items: O[];
  error?: unknown;
}

class Contract<O> {
  readonly normalize: (items: O[]) => unknown;
  readonly #makeCore: () => StageCore<Uint8Array, O>;
  readonly #options: StageContractOptions<O>;

  constructor(
    makeCore: () => StageCore<Uint8Array, O>,
    options: StageContractOptions<O>,
  ) {
    this.#makeCore = makeCore;
    this.#options = options;
    this.normalize = options.normalize ?? ((items) => items);
  }

  /** Pushes `parts` into a fresh core and ends it; asserts the parts are unchanged. */
  run(parts: Uint8Array[]): Outcome<O> {
    const copies = parts.map((p) => p.slice());
    const core = this.#makeCore();
    const out = collect<O>();
    let error: unknown;
    try {
      for (const p of parts) core.push(p, out);
      core.end?.(out);
    } catch (e) {
      error = e;
    }
    parts.forEach((p, i) =>
      assertBytes(p, copies[i]!, "stage changed its input")
    );
    return { items: out.items, error };
  }

  /** Step 1: the fixture (`bytes`, a copy) whole, without error, with the expected output. */
  clean(fixture: StageFixture, bytes: Uint8Array): O[] {
    const { items, error } = this.run([bytes]);
    if (error !== undefined) {
      fail(`${fixture.name}: the clean run threw`, error);
    }
    if (fixture.expect !== undefined) {
      assert.deepEqual(
        this.normalize(items),
        fixture.expect,
        `${fixture.name}: output differs from the expected`,
      );
    } else {
      assert.ok(
        items.length > 0,
        `${fixture.name}: the clean run gave nothing`,
      );
    }
    this.#options.check?.(items, fixture);
    return items;
  }

  /** Step 2: two parts at every split point and one byte at a time, or random multi-way splits. */
  splits(name: string, bytes: Uint8Array, want: unknown): void {
    const same = (cuts: number[]) => {
      const { items, error } = this.run(cutAt(bytes, cuts));
      const where = `${name} split at ${cuts.join(", ")}`;
      if (error !== undefined) fail(`${where}: threw`, error);
      assert.deepEqual(this.normalize(items), want, `${where}: output differs`);
    };
    if (bytes.length <= (this.#options.maxSplitAll ?? 4096)) {
      for (let i = 1; i < bytes.length; i++) same([i]);
      if (bytes.length > 2) {
        same(Array.from(bytes.subarray(1), (_, i) => i + 1));
      }
      return;
    }
    const cuts = fc.uniqueArray(
      fc.integer({ min: 1, max: bytes.length - 1 }),
      { minLength: 1, maxLength: 32 },
    );
    fc.assert(fc.property(cuts, (c) => same(c.sort((a, b) => a - b))), {
      numRuns: this.#options.randomSplits ?? 24,
    });
  }

  /** `encode(items)`, asserting that it left `input` (which items may view) unchanged. */
  encode(items: O[], input: Uint8Array): Uint8Array {
    const copy = input.slice();
    const encoded = this.#options.encode!(items);
    assertBytes(input, copy, "encode changed the decoded input");
    return encoded;
  }

  /** Steps 3 and 4: decode(encode(items)) gives items back. */
  roundTrip(items: O[], input: Uint8Array, where: string): void {
    const again = this.run([this.encode(items, input)]);
    if (again.error !== undefined) {
      fail(`${where}: decode(encode(decode(x))) threw`, again.error);
    }
    const same = this.#options.normalizeRoundTrip ?? this.normalize;
    assert.deepEqual(
      same(again.items),
      same(items),
      `${where}: decode(encode(decode(x))) differs from decode(x)`,
    );
  }

  /** Step 4: random bytes, then fixtures with bytes set, cut and inserted. */
  badInput(): void {
    const options = this.#options;
    const runs = envRuns() ?? options.runs ?? 200;
    const maxMs = options.maxRunMs ?? 1000;
    const expected = options.isExpectedError ??
      ((e: unknown) => e instanceof ProtocolError);
    const reEncode = options.encode !== undefined &&
      (options.roundTripMutated ?? true);
    const bad = (parts: Uint8Array[]) => {
      const started = performance.now();
      const { items, error } = this.run(parts);
      const ms = performance.now() - started;
      const input = describe(parts);
      assert.ok(ms < maxMs, `took ${Math.round(ms)} ms on ${input}`);
      if (error !== undefined) {
        if (!expected(error)) fail(`threw on ${input}`, error);
      } else if (reEncode && items.length > 0) {
        this.roundTrip(items, join(parts), input);
      }
    };
    const random = fc.array(fc.uint8Array({ maxLength: 512 }), {
      maxLength: 8,
    });
    fc.assert(fc.property(random, bad), { numRuns: runs });
    if (options.fixtures.length === 0) return;
    const mutation = fc.record({
      which: fc.nat(),
      edits: fc.array(
        fc.record({
          kind: fc.constantFrom("set", "cut", "insert"),
          at: fc.nat(),
          value: fc.integer({ min: 0, max: 255 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      split: fc.nat(),
    });
    fc.assert(
      fc.property(mutation, ({ which, edits, split }) => {
        const fixture = options.fixtures[which % options.fixtures.length]!;
        const bytes = mutate(fixture.bytes, edits);
        const cut = bytes.length === 0 ? 0 : split % bytes.length;
        bad([bytes.subarray(0, cut), bytes.subarray(cut)]);
      }),
      { numRuns: runs },
    );
  }
}

interface Edit {
  kind: "set" | "cut" | "insert";
  at: number;
  value: number;
}

/** A copy of `original` with the edits applied: a byte set, the tail cut, a byte inserted. */
function mutate(original: Uint8Array, edits: Edit[]): Uint8Array {
  let bytes = original.slice();
  for (const e of edits) {
    const at = bytes.length === 0 ? 0 : e.at % bytes.length;
    if (e.kind === "set" && bytes.length > 0) bytes[at] = e.value;
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
}

/** The input in hex for a failure message, cut short past 96 bytes. */
function describe(parts: Uint8Array[]): string {
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total <= 96) return parts.map(toHex).join(" / ");
  return `${
    toHex(join(parts).subarray(0, 96))
  } … (${total} bytes in ${parts.length} parts)`;
}

function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const at of cuts) {
    parts.push(bytes.subarray(from, at));
    from = at;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** The parts as one buffer (the part itself when there is one). */
function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte equality that names the first difference, cheaper than deepEqual on large buffers. */
function assertBytes(actual: Uint8Array, want: Uint8Array, what: string): void {
  const n = Math.min(actual.length, want.length);
  let i = 0;
  while (i < n && actual[i] === want[i]) i++;
  if (i === n && actual.length === want.length) return;
  throw new assert.AssertionError({
    message: `${what}: differs at byte ${i} (got ${
      toHex(actual.subarray(i, i + 16))
    }, want ${
      toHex(want.subarray(i, i + 16))
    }; ${actual.length} bytes, want ${want.length})`,
  });
}

/** `STAGE_CONTRACT_RUNS`, when set and readable. */
function envRuns(): number | undefined {
  try {
    const value = Number(Deno.env.get("STAGE_CONTRACT_RUNS"));
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

function fail(what: string, error: unknown): never {
  const e = error as Error;
  const failure = new assert.AssertionError({
    message: `${what}: ${e?.name}: ${e?.message}`,
  });
  failure.cause = error;
  throw failure;
}
