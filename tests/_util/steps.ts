/**
 * Steps of a property test that drives an object through random
 * operations: `fc.oneof(step("tick", 3), step("join", 2, { small: fc.boolean() }))`.
 *
 * @module
 */
import fc from "fast-check";

/** An operation named `op` with random `fields`, drawn with `weight`. */
export function step<
  const O extends string,
  F extends Record<string, fc.Arbitrary<unknown>> = Record<never, never>,
>(
  op: O,
  weight: number,
  fields?: F,
): {
  arbitrary: fc.Arbitrary<
    & { op: O }
    & { [K in keyof F]: F[K] extends fc.Arbitrary<infer T> ? T : never }
  >;
  weight: number;
} {
  return {
    arbitrary: fc.record({ op: fc.constant(op), ...fields }) as fc.Arbitrary<
      & { op: O }
      & { [K in keyof F]: F[K] extends fc.Arbitrary<infer T> ? T : never }
    >,
    weight,
  };
}
