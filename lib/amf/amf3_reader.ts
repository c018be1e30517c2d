/**
 * AMF3 decoding (Adobe, "AMF 3 Specification", January 2013): markers,
 * reference tables and the limits a peer's bytes meet.
 *
 * @module
 */

import type { ByteReader } from "../binary.ts";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import { readUtf8 } from "./_codec.ts";
import {
  AMF_CLASS_NAME,
  AMF_ECMA_ARRAY,
  type AmfLimits,
  type AmfObject,
  type AmfValue,
  AmfXml,
  setProperty,
} from "./value.ts";

/** AMF3 type markers (AMF3 §3.1). */
export const AMF3_MARKER = {
  UNDEFINED: 0x00,
  NULL: 0x01,
  FALSE: 0x02,
  TRUE: 0x03,
  INTEGER: 0x04,
  DOUBLE: 0x05,
  STRING: 0x06,
  XML_DOCUMENT: 0x07,
  DATE: 0x08,
  ARRAY: 0x09,
  OBJECT: 0x0a,
  XML: 0x0b,
  BYTE_ARRAY: 0x0c,
  VECTOR_INT: 0x0d,
  VECTOR_UINT: 0x0e,
  VECTOR_DOUBLE: 0x0f,
  VECTOR_OBJECT: 0x10,
  DICTIONARY: 0x11,
} as const;
/** One of {@link AMF3_MARKER}. */
export type Amf3Marker = typeof AMF3_MARKER[keyof typeof AMF3_MARKER];

/**
 * Externalizable Flex classes whose `writeExternal` writes exactly one AMF3
 * value (the source array, or the proxied object): they decode as that value.
 */
const EXTERNALIZABLE_WRAPPERS = new Set([
  "flex.messaging.io.ArrayCollection",
  "flex.messaging.io.ArrayList",
  "flex.messaging.io.ObjectProxy",
]);

interface Traits {
  className: string;
  dynamic: boolean;
  externalizable: boolean;
  sealed: string[];
}

/**
 * Reads AMF3 values with one set of reference tables (strings, objects,
 * traits, AMF3 §2.2). AMF0 keeps one per message for its avmplus-object
 * markers, as Adobe's BlazeDS `Amf0Input` does.
 */
export class Amf3Reader {
  readonly #r: ByteReader;
  readonly #limits: AmfLimits;
  readonly #strings: string[] = [];
  readonly #objects: AmfValue[] = [];
  readonly #traits: Traits[] = [];

  constructor(reader: ByteReader, limits: AmfLimits) {
    this.#r = reader;
    this.#limits = limits;
  }

  /** Reads one value; `depth` counts the containers around it. */
  value(depth: number): AmfValue {
    const r = this.#r;
    const marker = r.u8();
    switch (marker) {
      case AMF3_MARKER.UNDEFINED:
        return undefined;
      case AMF3_MARKER.NULL:
        return null;
      case AMF3_MARKER.FALSE:
        return false;
      case AMF3_MARKER.TRUE:
        return true;
      case AMF3_MARKER.INTEGER: { // §3.6: 29-bit two's complement
        const v = this.#u29();
        return v & 0x10000000 ? v - 0x20000000 : v;
      }
      case AMF3_MARKER.DOUBLE:
        return r.f64();
      case AMF3_MARKER.STRING:
        return this.#string();
      case AMF3_MARKER.XML_DOCUMENT:
      case AMF3_MARKER.XML:
        return this.#xml(marker === AMF3_MARKER.XML);
      case AMF3_MARKER.DATE: { // §3.10: U29D-value (low bit 1), then ms since the epoch
        const u = this.#u29();
        if ((u & 1) === 0) return this.#objectRef(u >>> 1);
        return this.#keep(new Date(r.f64()));
      }
      case AMF3_MARKER.ARRAY:
        return this.#array(depth);
      case AMF3_MARKER.OBJECT:
        return this.#object(depth);
      case AMF3_MARKER.BYTE_ARRAY: { // §3.14
        const u = this.#u29();
        if ((u & 1) === 0) return this.#objectRef(u >>> 1);
        return this.#keep(r.bytesView(u >>> 1).slice()); // kept past the message: copied
      }
      case AMF3_MARKER.VECTOR_INT:
      case AMF3_MARKER.VECTOR_UINT:
      case AMF3_MARKER.VECTOR_DOUBLE:
        return this.#numberVector(marker);
      case AMF3_MARKER.VECTOR_OBJECT:
        return this.#objectVector(depth);
      case AMF3_MARKER.DICTIONARY:
        return this.#dictionary(depth);
      default:
        throw fail(
          "malformed",
          `unknown marker 0x${marker.toString(16).padStart(2, "0")}`,
        );
    }
  }

  /** §1.3.1: 7 bits in each of up to three bytes with a continuation bit, then 8. */
  #u29(): number {
    const r = this.#r;
    let b = r.u8();
    if (b < 0x80) return b;
    let v = b & 0x7f;
    b = r.u8();
    if (b < 0x80) return (v << 7) | b;
    v = (v << 7) | (b & 0x7f);
    b = r.u8();
    if (b < 0x80) return (v << 7) | b;
    v = (v << 7) | (b & 0x7f);
    return (v << 8) | r.u8();
  }

  /** §3.8 / §1.3.2: U29S-ref (low bit 0) or U29S-value (length, low bit 1); "" is never kept. */
  #string(): string {
    const u = this.#u29();
    if ((u & 1) === 0) {
      const i = u >>> 1;
      if (i >= this.#strings.length) {
        throw fail(
          "malformed",
          `string reference ${i} beyond table of ${this.#strings.length}`,
        );
      }
      return this.#strings[i]!;
    }
    const length = u >>> 1;
    if (length === 0) return "";
    const s = readUtf8(this.#r, length); // throws truncated before any allocation
    this.#remember(this.#strings, s, "string");
    return s;
  }

  #xml(e4x: boolean): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    return this.#keep(new AmfXml(readUtf8(this.#r, u >>> 1), e4x));
  }

  /** §3.11: U29A-value (dense count), associative name/value pairs up to "", dense values. */
  #array(depth: number): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    this.#enter(depth);
    const dense = this.#count(u >>> 1, 1, "array");
    let key = this.#string();
    if (key === "") {
      const arr: AmfValue[] = [];
      this.#keep(arr);
      for (let i = 0; i < dense; i++) arr.push(this.value(depth + 1));
      return arr;
    }
    const obj: AmfObject = { [AMF_ECMA_ARRAY]: true };
    this.#keep(obj);
    let n = dense;
    while (key !== "") {
      if (++n > this.#limits.maxItems) {
        throw tooMany("array", this.#limits.maxItems);
      }
      setProperty(obj, key, this.value(depth + 1));
      key = this.#string();
    }
    for (let i = 0; i < dense; i++) {
      setProperty(obj, String(i), this.value(depth + 1));
    }
    return obj;
  }

  /** §3.12: U29O-ref, U29O-traits-ref, U29O-traits-ext or inline traits, then members. */
  #object(depth: number): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    this.#enter(depth);
    let traits: Traits;
    if ((u & 2) === 0) {
      const i = u >>> 2;
      if (i >= this.#traits.length) {
        throw fail(
          "malformed",
          `traits reference ${i} beyond table of ${this.#traits.length}`,
        );
      }
      traits = this.#traits[i]!;
    } else if ((u & 4) !== 0) {
      traits = {
        className: this.#string(),
        dynamic: false,
        externalizable: true,
        sealed: [],
      };
      this.#remember(this.#traits, traits, "traits");
    } else {
      const count = this.#count(u >>> 4, 1, "object");
      const className = this.#string();
      const sealed: string[] = [];
      for (let i = 0; i < count; i++) sealed.push(this.#string());
      traits = {
        className,
        dynamic: (u & 8) !== 0,
        externalizable: false,
        sealed,
      };
      this.#remember(this.#traits, traits, "traits");
    }
    if (traits.externalizable) {
      return this.#externalizable(traits.className, depth);
    }

    const obj: AmfObject = {};
    if (traits.className !== "") obj[AMF_CLASS_NAME] = traits.className;
    this.#keep(obj);
    for (const name of traits.sealed) {
      setProperty(obj, name, this.value(depth + 1));
    }
    if (traits.dynamic) {
      let n = traits.sealed.length;
      for (let key = this.#string(); key !== ""; key = this.#string()) {
        if (++n > this.#limits.maxItems) {
          throw tooMany("object", this.#limits.maxItems);
        }
        setProperty(obj, key, this.value(depth + 1));
      }
    }
    return obj;
  }

  #externalizable(className: string, depth: number): AmfValue {
    if (!EXTERNALIZABLE_WRAPPERS.has(className)) {
      throw fail("unsupported", `externalizable class "${className}"`);
    }
    const slot = this.#objects.length;
    this.#keep(undefined); // the slot exists before the wrapped value, as the encoder counted it
    const inner = this.value(depth + 1);
    this.#objects[slot] = inner;
    return inner;
  }

  /** §3.15: U29V-value (count), fixed-vector flag, then 4- or 8-byte items. */
  #numberVector(marker: number): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    const size = marker === AMF3_MARKER.VECTOR_DOUBLE ? 8 : 4;
    const r = this.#r;
    r.u8(); // fixed-vector flag
    const count = this.#count(u >>> 1, size, "vector");
    if (marker === AMF3_MARKER.VECTOR_INT) {
      const v = new Int32Array(count);
      for (let i = 0; i < count; i++) v[i] = r.i32();
      return this.#keep(v);
    }
    if (marker === AMF3_MARKER.VECTOR_UINT) {
      const v = new Uint32Array(count);
      for (let i = 0; i < count; i++) v[i] = r.u32();
      return this.#keep(v);
    }
    const v = new Float64Array(count);
    for (let i = 0; i < count; i++) v[i] = r.f64();
    return this.#keep(v);
  }

  /** §3.15: U29V-value, fixed-vector flag, object type name, values. */
  #objectVector(depth: number): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    this.#enter(depth);
    this.#r.u8(); // fixed-vector flag
    const count = this.#count(u >>> 1, 1, "vector");
    this.#string(); // element type name: not kept
    const arr: AmfValue[] = [];
    this.#keep(arr);
    for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
    return arr;
  }

  /** §3.16: U29Dict-value (count), weak-keys flag, then key/value pairs of any type. */
  #dictionary(depth: number): AmfValue {
    const u = this.#u29();
    if ((u & 1) === 0) return this.#objectRef(u >>> 1);
    this.#enter(depth);
    this.#r.u8(); // weak-keys flag
    const count = this.#count(u >>> 1, 2, "dictionary");
    const map = new Map<AmfValue, AmfValue>();
    this.#keep(map);
    for (let i = 0; i < count; i++) {
      const key = this.value(depth + 1);
      map.set(key, this.value(depth + 1));
    }
    return map;
  }

  /** Checks a declared count against maxItems and the bytes left (`size` bytes at least per item). */
  #count(count: number, size: number, what: string): number {
    if (count > this.#limits.maxItems) {
      throw tooMany(what, this.#limits.maxItems, count);
    }
    if (count * size > this.#r.remaining) {
      throw fail(
        "truncated",
        `${what} of ${count} items in ${this.#r.remaining} bytes`,
      );
    }
    return count;
  }

  #enter(depth: number): void {
    if (depth >= this.#limits.maxDepth) {
      throw fail(
        "limit",
        `nesting deeper than maxDepth ${this.#limits.maxDepth}`,
      );
    }
  }

  #objectRef(i: number): AmfValue {
    if (i >= this.#objects.length) {
      throw fail(
        "malformed",
        `object reference ${i} beyond table of ${this.#objects.length}`,
      );
    }
    return this.#objects[i];
  }

  #keep<T extends AmfValue>(value: T): T {
    this.#remember(this.#objects, value, "object");
    return value;
  }

  #remember<T>(table: T[], value: T, what: string): void {
    if (table.length >= this.#limits.maxReferences) {
      throw fail(
        "limit",
        `${what} table over maxReferences ${this.#limits.maxReferences}`,
      );
    }
    table.push(value);
  }
}

export function tooMany(
  what: string,
  max: number,
  count?: number,
): ProtocolError {
  const found = count === undefined ? "more than" : `${count} items exceed`;
  return fail("limit", `${what} with ${found} maxItems ${max}`);
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode AMF3 value: ${detail}`, {
    protocol: "amf",
    code,
  });
}
