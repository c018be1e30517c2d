/**
 * AMF0 (Adobe, "AMF 0 File Format Specification", December 2007), the
 * encoding of RTMP command and data messages and of FLV SCRIPTDATA. Values
 * map to JavaScript as the table in `amf3.ts` says.
 *
 * @module
 */

import type { ByteReader } from "../binary.ts";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import {
  Amf3Reader,
  Amf3Writer,
  AMF_CLASS_NAME,
  AMF_ECMA_ARRAY,
  type AmfDecodeOptions,
  type AmfFormat,
  type AmfLimits,
  amfLimits,
  type AmfObject,
  type AmfValue,
  type AmfWriter,
  AmfXml,
  classNameOf,
  decodeAll,
  encodeAll,
  isEcmaArray,
  readUtf8,
  setProperty,
  utf8Length,
} from "./amf3.ts";

/** AMF0 type markers (AMF0 §2.1). */
export const AMF0_MARKER = {
  NUMBER: 0x00,
  BOOLEAN: 0x01,
  STRING: 0x02,
  OBJECT: 0x03,
  /** Reserved, not supported. */
  MOVIECLIP: 0x04,
  NULL: 0x05,
  UNDEFINED: 0x06,
  REFERENCE: 0x07,
  ECMA_ARRAY: 0x08,
  OBJECT_END: 0x09,
  STRICT_ARRAY: 0x0a,
  DATE: 0x0b,
  LONG_STRING: 0x0c,
  UNSUPPORTED: 0x0d,
  /** Reserved, not supported. */
  RECORDSET: 0x0e,
  XML_DOCUMENT: 0x0f,
  TYPED_OBJECT: 0x10,
  /** The next value is AMF3 (AMF0 §3.1). */
  AVMPLUS_OBJECT: 0x11,
} as const;
/** One of {@link AMF0_MARKER}. */
export type Amf0Marker = typeof AMF0_MARKER[keyof typeof AMF0_MARKER];

/** Longest string that fits the 16-bit length of a string-marker value (AMF0 §1.3 UTF-8). */
const MAX_SHORT_STRING = 0xffff;

/**
 * Reads AMF0 values with one reference table (AMF0 §2.9: objects, typed
 * objects, ECMA and strict arrays, numbered as they begin) and one AMF3
 * context for every avmplus-object marker of the same message.
 */
class Amf0Reader {
  readonly #r: ByteReader;
  readonly #limits: AmfLimits;
  readonly #objects: AmfValue[] = [];
  #amf3: Amf3Reader | undefined;

  constructor(reader: ByteReader, limits: AmfLimits) {
    this.#r = reader;
    this.#limits = limits;
  }

  /** Reads one value; `depth` counts the containers around it. */
  value(depth: number): AmfValue {
    const r = this.#r;
    const marker = r.u8();
    switch (marker) {
      case AMF0_MARKER.NUMBER: // §2.2: IEEE 754 double, big-endian
        return r.f64();
      case AMF0_MARKER.BOOLEAN: // §2.3: 0 is false, anything else true
        return r.u8() !== 0;
      case AMF0_MARKER.STRING: // §2.4: UTF-8 with a 16-bit length
        return readUtf8(r, r.u16());
      case AMF0_MARKER.OBJECT: { // §2.5: name/value pairs up to "" + object-end
        this.#enter(depth);
        const obj: AmfObject = {};
        this.#keep(obj);
        return this.#properties(obj, depth);
      }
      case AMF0_MARKER.NULL:
        return null;
      case AMF0_MARKER.UNDEFINED:
      case AMF0_MARKER.UNSUPPORTED: // §2.15: stands for a value the sender could not write
        return undefined;
      case AMF0_MARKER.REFERENCE: { // §2.9: 16-bit index into the object table
        const i = r.u16();
        if (i >= this.#objects.length) {
          throw fail(
            "malformed",
            `reference ${i} beyond table of ${this.#objects.length}`,
          );
        }
        return this.#objects[i];
      }
      case AMF0_MARKER.ECMA_ARRAY: { // §2.10: 32-bit count, then pairs as an object
        r.u32(); // only a hint: encoders write 0 or a stale count; the object-end decides
        this.#enter(depth);
        const obj: AmfObject = { [AMF_ECMA_ARRAY]: true };
        this.#keep(obj);
        return this.#properties(obj, depth);
      }
      case AMF0_MARKER.STRICT_ARRAY: { // §2.12: 32-bit count, then that many values
        const count = r.u32();
        this.#enter(depth);
        if (count > this.#limits.maxItems) {
          throw fail(
            "limit",
            `strict array of ${count} items over maxItems ${this.#limits.maxItems}`,
          );
        }
        if (count > r.remaining) { // every value takes a byte at least
          throw fail(
            "truncated",
            `strict array of ${count} items in ${r.remaining} bytes`,
          );
        }
        const arr: AmfValue[] = [];
        this.#keep(arr);
        for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case AMF0_MARKER.DATE: { // §2.13: ms since the epoch, then a reserved 16-bit time zone
        const ms = r.f64();
        r.skip(2);
        return new Date(ms);
      }
      case AMF0_MARKER.LONG_STRING: // §2.14: UTF-8 with a 32-bit length
        return readUtf8(r, r.u32());
      case AMF0_MARKER.XML_DOCUMENT: // §2.17: as a long string
        return new AmfXml(readUtf8(r, r.u32()), false);
      case AMF0_MARKER.TYPED_OBJECT: { // §2.18: class name, then as an object
        const className = readUtf8(r, r.u16());
        this.#enter(depth);
        const obj: AmfObject = { [AMF_CLASS_NAME]: className };
        this.#keep(obj);
        return this.#properties(obj, depth);
      }
      case AMF0_MARKER.AVMPLUS_OBJECT: // §3.1: one AMF3 value
        this.#amf3 ??= new Amf3Reader(r, this.#limits);
        return this.#amf3.value(depth);
      case AMF0_MARKER.OBJECT_END:
        throw fail("malformed", "object-end marker outside an object");
      case AMF0_MARKER.MOVIECLIP:
      case AMF0_MARKER.RECORDSET:
        throw fail("unsupported", `reserved marker 0x${hex2(marker)}`);
      default:
        throw fail("malformed", `unknown marker 0x${hex2(marker)}`);
    }
  }

  /** §2.5: (UTF-8 name, value)* then an empty name and the object-end marker. */
  #properties(obj: AmfObject, depth: number): AmfObject {
    const r = this.#r;
    const max = this.#limits.maxItems;
    for (let n = 0;; n++) {
      const length = r.u16();
      // An empty name ends the object only before object-end; "" may also name a member.
      if (
        length === 0 && r.remaining > 0 &&
        r.bytes[r.pos] === AMF0_MARKER.OBJECT_END
      ) {
        r.pos++;
        return obj;
      }
      if (n >= max) {
        throw fail("limit", `object with more than maxItems ${max} members`);
      }
      const key = readUtf8(r, length);
      setProperty(obj, key, this.value(depth + 1));
    }
  }

  #enter(depth: number): void {
    if (depth >= this.#limits.maxDepth) {
      throw fail(
        "limit",
        `nesting deeper than maxDepth ${this.#limits.maxDepth}`,
      );
    }
  }

  #keep(value: AmfValue): void {
    if (this.#objects.length >= this.#limits.maxReferences) {
      throw fail(
        "limit",
        `object table over maxReferences ${this.#limits.maxReferences}`,
      );
    }
    this.#objects.push(value);
  }
}

/**
 * Decodes every AMF0 value in `bytes` (a command or data message payload,
 * FLV SCRIPTDATA), sharing the reference tables across them.
 *
 * @throws {ProtocolError} `truncated` when a declared length runs past the
 * data; `malformed`, `limit` (see {@link AmfDecodeOptions}) or `unsupported`
 */
export function decodeAmf0(
  bytes: Uint8Array,
  options?: AmfDecodeOptions,
): AmfValue[] {
  return decodeAll(bytes, AMF0, options);
}

/**
 * Decodes one AMF0 value at the reader's position (fresh reference tables)
 * and leaves the reader after it.
 *
 * @throws {ProtocolError} as {@link decodeAmf0}
 */
export function decodeAmf0Value(
  reader: ByteReader,
  options?: AmfDecodeOptions,
): AmfValue {
  return new Amf0Reader(reader, amfLimits(options)).value(0);
}

/**
 * Writes AMF0 values with one reference table; what only AMF3 can carry
 * (`Uint8Array`, `Int32Array`, `Uint32Array`, `Float64Array`, `Map`, E4X
 * XML) goes out behind an avmplus-object marker.
 */
class Amf0Writer {
  readonly #w: AmfWriter;
  readonly #objects = new Map<object, number>();
  #amf3: Amf3Writer | undefined;

  constructor(writer: AmfWriter) {
    this.#w = writer;
  }

  value(v: unknown): void {
    const w = this.#w;
    switch (typeof v) {
      case "undefined":
        return w.u8(AMF0_MARKER.UNDEFINED);
      case "boolean":
        w.u8(AMF0_MARKER.BOOLEAN);
        return w.u8(v ? 1 : 0);
      case "number":
        w.u8(AMF0_MARKER.NUMBER);
        return w.f64(v);
      case "string": {
        const length = utf8Length(v);
        if (length > MAX_SHORT_STRING) {
          w.u8(AMF0_MARKER.LONG_STRING);
          w.u32(length);
        } else {
          w.u8(AMF0_MARKER.STRING);
          w.u16(length);
        }
        return w.utf8(v, length);
      }
      case "object":
        if (v === null) return w.u8(AMF0_MARKER.NULL);
        return this.#complex(v);
      default:
        throw new TypeError(`Cannot encode AMF0 value: ${typeof v}`);
    }
  }

  #complex(v: object): void {
    const w = this.#w;
    if (v instanceof Date) {
      w.u8(AMF0_MARKER.DATE);
      w.f64(v.getTime());
      return w.i16(0); // §2.13: time zone, reserved, 0
    }
    if (v instanceof AmfXml && !v.e4x) {
      const length = utf8Length(v.text);
      w.u8(AMF0_MARKER.XML_DOCUMENT);
      w.u32(length);
      return w.utf8(v.text, length);
    }
    // E4X XML is AMF3's alone (an AMF0 XML document would come back as one)
    if (
      ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set ||
      v instanceof AmfXml
    ) {
      w.u8(AMF0_MARKER.AVMPLUS_OBJECT);
      this.#amf3 ??= new Amf3Writer(w);
      return this.#amf3.value(v);
    }
    const i = this.#objects.get(v);
    if (i !== undefined) {
      w.u8(AMF0_MARKER.REFERENCE);
      return w.u16(i);
    }
    if (this.#objects.size <= 0xffff) this.#objects.set(v, this.#objects.size);
    if (Array.isArray(v)) {
      w.u8(AMF0_MARKER.STRICT_ARRAY);
      w.u32(v.length);
      for (let k = 0; k < v.length; k++) this.value(v[k]);
      return;
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    const className = classNameOf(obj);
    if (isEcmaArray(obj)) {
      w.u8(AMF0_MARKER.ECMA_ARRAY);
      w.u32(keys.length);
    } else if (className !== undefined) {
      w.u8(AMF0_MARKER.TYPED_OBJECT);
      this.#name(className);
    } else {
      w.u8(AMF0_MARKER.OBJECT);
    }
    for (const key of keys) {
      this.#name(key);
      this.value(obj[key]);
    }
    w.u16(0);
    w.u8(AMF0_MARKER.OBJECT_END);
  }

  /** A member or class name: UTF-8 with a 16-bit length. */
  #name(s: string): void {
    const length = utf8Length(s);
    if (length > MAX_SHORT_STRING) {
      throw new RangeError(
        `Cannot encode AMF0 name of ${length} bytes: over 65535`,
      );
    }
    this.#w.u16(length);
    this.#w.utf8(s, length);
  }
}

/**
 * Encodes values as AMF0: numbers, booleans, strings (long strings past
 * 65535 UTF-8 bytes), null, undefined, `Date`, {@link AmfXml}, arrays (strict
 * arrays), objects tagged {@link AMF_ECMA_ARRAY} (ECMA arrays) or
 * {@link AMF_CLASS_NAME} (typed objects), other objects (anonymous objects),
 * and what only AMF3 carries (`Uint8Array`, the vectors' typed arrays, `Map`)
 * behind an avmplus-object marker. An object met again (a cycle, a
 * shared child) goes out as a reference. The size is counted first, then
 * one buffer of that size is filled.
 *
 * @throws {TypeError} for a value AMF0 cannot carry (function, symbol, bigint)
 */
export function encodeAmf0(...values: unknown[]): Uint8Array<ArrayBuffer> {
  return encodeAll(values, AMF0);
}

const AMF0: AmfFormat = {
  reader: (reader, limits) => new Amf0Reader(reader, limits),
  writer: (writer) => new Amf0Writer(writer),
  tooManyValues: (max) =>
    fail("limit", `buffer with more than maxItems ${max} values`),
};

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode AMF0 value: ${detail}`, {
    protocol: "amf",
    code,
  });
}
