/**
 * AV1 helpers: the av1C record and the sequence header OBU.
 *
 * @module
 */
export * from "./av1c.ts";
