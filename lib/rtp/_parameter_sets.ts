/**
 * The parameter sets (VPS, SPS, PPS) a NAL payload stream has shown so far,
 * and keyframes completed with those they lack. Private to `rtp/`.
 *
 * @module
 */

import type { ParameterSets } from "../media/mod.ts";
import {
  type NalFormat,
  PARAMETER_SET_KINDS,
  type ParameterSetKind,
} from "./_nal_format.ts";

/** Parameter sets seen so far, by kind. */
export class ParameterSetStore {
  readonly #format: NalFormat;
  readonly #sets: Record<ParameterSetKind, Uint8Array[]> = {
    vps: [],
    sps: [],
    pps: [],
  };

  constructor(format: NalFormat, initial: ParameterSets | undefined) {
    this.#format = format;
    if (initial) {
      this.#sets.vps = (initial.vps ?? []).map((u) => u.slice());
      this.#sets.sps = initial.sps.map((u) => u.slice());
      this.#sets.pps = initial.pps.map((u) => u.slice());
    }
  }

  current(): ParameterSets | undefined {
    const { vps, sps, pps } = this.#sets;
    if (sps.length === 0 && pps.length === 0 && vps.length === 0) {
      return undefined;
    }
    return this.#format.requiredSets.includes("vps")
      ? { vps, sps, pps }
      : { sps, pps };
  }

  /**
   * Takes the parameter sets of an access unit: those of a kind replace the
   * stored ones of that kind. Returns whether anything changed.
   */
  observe(units: readonly Uint8Array[]): boolean {
    let found: Partial<Record<ParameterSetKind, Uint8Array[]>> | undefined;
    for (const u of units) {
      const kind = this.#format.parameterSet(this.#format.type(u));
      if (kind === undefined) continue;
      found ??= {};
      (found[kind] ??= []).push(u);
    }
    if (found === undefined) return false;
    let changed = false;
    for (const kind of PARAMETER_SET_KINDS) {
      const next = found[kind];
      if (next === undefined || sameUnits(next, this.#sets[kind])) continue;
      this.#sets[kind] = next.map((u) => u.slice()); // they outlive the packet
      changed = true;
    }
    return changed;
  }

  /**
   * `units` with the stored parameter sets of the kinds it lacks put before
   * its first slice, so a keyframe always decodes on its own.
   */
  complete(units: Uint8Array[]): Uint8Array[] {
    const f = this.#format;
    let missing: Uint8Array[] | undefined;
    for (const kind of f.requiredSets) {
      if (this.#sets[kind].length === 0) continue;
      if (units.some((u) => f.parameterSet(f.type(u)) === kind)) continue;
      (missing ??= []).push(...this.#sets[kind]);
    }
    if (missing === undefined) return units;
    const at = units.findIndex((u) => f.isVcl(f.type(u)));
    return [...units.slice(0, at), ...missing, ...units.slice(at)];
  }
}

/** Whether `a` and `b` hold the same NAL units, byte for byte. */
function sameUnits(
  a: readonly Uint8Array[],
  b: readonly Uint8Array[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}
