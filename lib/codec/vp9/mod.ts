/**
 * VP9 helpers: the vpcC record and keyframe size.
 *
 * @module
 */
export * from "./vpcc.ts";
