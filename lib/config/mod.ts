/**
 * Sluice's configuration: the valibot schema (keys, defaults, units) and the
 * loader that layers file, environment and flags over the defaults.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./load.ts";
