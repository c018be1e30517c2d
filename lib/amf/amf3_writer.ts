/**
 * AMF3 encoding (Adobe, "AMF 3 Specification", January 2013): references
 * for repeated strings, objects and traits.
 *
 * @module
 */

import { type AmfWriter, utf8Length } from "./_codec.ts";
import { AMF3_MARKER } from "./amf3_reader.ts";
import { AmfXml, classNameOf, isEcmaArray } from "./value.ts";

/**
 * Writes AMF3 values with one set of reference tables. Repeated objects
 * (and cycles) go out as object references, repeated strings as string
 * references, repeated anonymous or typed traits as traits references.
 */
export class Amf3Writer {
  readonly #w: AmfWriter;
  readonly #strings = new Map<string, number>();
  readonly #objects = new Map<object, number>();
  readonly #traits = new Map<string, number>();

  constructor(writer: AmfWriter) {
    this.#w = writer;
  }

  /** Writes one value; throws `TypeError` for what AMF3 cannot carry (functions, symbols, bigints, Sets, typed arrays other than those the decoder returns). */
  value(v: unknown): void {
    const w = this.#w;
    switch (typeof v) {
      case "undefined":
        return w.u8(AMF3_MARKER.UNDEFINED);
      case "boolean":
        return w.u8(v ? AMF3_MARKER.TRUE : AMF3_MARKER.FALSE);
      case "number":
        if (
          Number.isInteger(v) && v >= -0x10000000 && v < 0x10000000 &&
          !Object.is(v, -0)
        ) {
          w.u8(AMF3_MARKER.INTEGER);
          return w.u29(v & 0x1fffffff);
        }
        w.u8(AMF3_MARKER.DOUBLE);
        return w.f64(v);
      case "string":
        w.u8(AMF3_MARKER.STRING);
        return this.#string(v);
      case "object":
        if (v === null) return w.u8(AMF3_MARKER.NULL);
        return this.#complex(v);
      default:
        throw new TypeError(`Cannot encode AMF3 value: ${typeof v}`);
    }
  }

  #string(s: string): void {
    const w = this.#w;
    if (s === "") return w.u29(1);
    const i = this.#strings.get(s);
    if (i !== undefined) return w.u29(i << 1);
    this.#strings.set(s, this.#strings.size);
    const length = utf8Length(s);
    w.u29(length * 2 + 1);
    w.utf8(s, length);
  }

  #complex(v: object): void {
    const w = this.#w;
    if (v instanceof Date) {
      w.u8(AMF3_MARKER.DATE);
      if (this.#reference(v)) return;
      w.u29(1);
      return w.f64(v.getTime());
    }
    if (v instanceof AmfXml) {
      w.u8(v.e4x ? AMF3_MARKER.XML : AMF3_MARKER.XML_DOCUMENT);
      if (this.#reference(v)) return;
      const length = utf8Length(v.text);
      w.u29(length * 2 + 1);
      return w.utf8(v.text, length);
    }
    if (v instanceof Uint8Array) {
      w.u8(AMF3_MARKER.BYTE_ARRAY);
      if (this.#reference(v)) return;
      w.u29(v.length * 2 + 1);
      return w.bytes(v);
    }
    if (Array.isArray(v)) {
      w.u8(AMF3_MARKER.ARRAY);
      if (this.#reference(v)) return;
      w.u29(v.length * 2 + 1);
      w.u29(1); // no associative part
      for (let i = 0; i < v.length; i++) this.value(v[i]);
      return;
    }
    const vector = v instanceof Int32Array
      ? AMF3_MARKER.VECTOR_INT
      : v instanceof Uint32Array
      ? AMF3_MARKER.VECTOR_UINT
      : v instanceof Float64Array
      ? AMF3_MARKER.VECTOR_DOUBLE
      : undefined;
    if (vector !== undefined) { // §3.15: count, fixed-vector flag, items
      const items = v as Int32Array | Uint32Array | Float64Array;
      w.u8(vector);
      if (this.#reference(items)) return;
      w.u29(items.length * 2 + 1);
      w.u8(0); // not fixed-length
      if (items instanceof Float64Array) {
        for (const x of items) w.f64(x);
      } else {
        for (const x of items) w.u32(x); // int or uint: the same 32 bits
      }
      return;
    }
    if (v instanceof Map) { // §3.16: count, weak-keys flag, key/value pairs
      w.u8(AMF3_MARKER.DICTIONARY);
      if (this.#reference(v)) return;
      w.u29(v.size * 2 + 1);
      w.u8(0); // strong keys
      for (const [key, value] of v) {
        this.value(key);
        this.value(value);
      }
      return;
    }
    if (ArrayBuffer.isView(v) || v instanceof Set) {
      throw new TypeError(`Cannot encode AMF3 value: ${v.constructor.name}`);
    }
    const obj = v as Record<string, unknown>;
    if (isEcmaArray(obj)) {
      w.u8(AMF3_MARKER.ARRAY);
      if (this.#reference(obj)) return;
      w.u29(1); // no dense part
      this.#members(obj);
      return;
    }
    w.u8(AMF3_MARKER.OBJECT);
    if (this.#reference(obj)) return;
    const className = classNameOf(obj) ?? "";
    const t = this.#traits.get(className);
    if (t !== undefined) w.u29((t << 2) | 1);
    else {
      this.#traits.set(className, this.#traits.size);
      w.u29(0x0b); // inline object, inline traits, dynamic, no sealed members
      this.#string(className);
    }
    this.#members(obj);
  }

  /** Name/value pairs ended by "" (dynamic members, associative part). */
  #members(obj: Record<string, unknown>): void {
    for (const key of Object.keys(obj)) {
      if (key === "") {
        throw new TypeError("Cannot encode AMF3 member: empty name");
      }
      this.#string(key);
      this.value(obj[key]);
    }
    this.#w.u29(1);
  }

  /** Writes an object reference when `v` was written before; else numbers it. */
  #reference(v: object): boolean {
    const i = this.#objects.get(v);
    if (i !== undefined) {
      this.#w.u29(i << 1);
      return true;
    }
    this.#objects.set(v, this.#objects.size);
    return false;
  }
}
