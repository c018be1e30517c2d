/**
 * AMF3 (Adobe, "AMF 3 Specification", January 2013) and the JavaScript value
 * model both AMF codecs share. The model lives here rather than in
 * `amf0.ts` because AMF0 embeds AMF3 (the avmplus-object marker, 0x11), so
 * `amf0.ts` imports this file and never the reverse.
 *
 * | AMF                                   | JavaScript                                        |
 * | ------------------------------------- | ------------------------------------------------- |
 * | undefined, null, boolean, string      | the same                                          |
 * | number (AMF0), integer, double (AMF3) | `number`                                          |
 * | object (anonymous)                    | plain object                                      |
 * | typed object, AMF3 object with class  | plain object, class name under {@link AMF_CLASS_NAME} |
 * | ECMA array, AMF3 associative array    | plain object tagged {@link AMF_ECMA_ARRAY}        |
 * | strict array, AMF3 dense array        | `Array`                                           |
 * | date                                  | `Date`                                            |
 * | XML document, AMF3 XML                | {@link AmfXml}                                    |
 * | ByteArray                             | `Uint8Array` (a copy)                             |
 * | Vector.<int/uint/Number/Object>       | `Int32Array`, `Uint32Array`, `Float64Array`, `Array` |
 * | Dictionary                            | `Map`                                             |
 *
 * Decoded objects keep `Object.prototype`; a `"__proto__"` key becomes an own
 * property (`Object.defineProperty`), never the object's prototype.
 *
 * @module
 */

import { ByteReader } from "../binary.ts";
import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

// ---------------------------------------------------------------------------
// The value model

/**
 * Own enumerable symbol property (value `true`) marking an object that came
 * as an ECMA array (AMF0 0x08) or an AMF3 array with an associative part,
 * and that goes out as one: onMetaData is written as an ECMA array by most
 * tools. Build such objects with {@link ecmaArray}.
 */
export const AMF_ECMA_ARRAY: unique symbol = Symbol.for("sluice.amf.ecmaArray");

/**
 * Own enumerable symbol property holding the class name of a typed object
 * (AMF0 0x10, AMF3 object traits with a class name). Build such objects with
 * {@link typedObject}.
 */
export const AMF_CLASS_NAME: unique symbol = Symbol.for("sluice.amf.className");

/** An AMF object, ECMA array or typed object. */
export interface AmfObject {
  [key: string]: AmfValue;
  [AMF_ECMA_ARRAY]?: true;
  [AMF_CLASS_NAME]?: string;
}

/** Any value an AMF0 or AMF3 decoder returns. */
export type AmfValue =
  | undefined
  | null
  | boolean
  | number
  | string
  | Date
  | AmfXml
  | Uint8Array
  | Int32Array
  | Uint32Array
  | Float64Array
  | AmfValue[]
  | AmfObject
  | Map<AmfValue, AmfValue>;

/** An XML value: AMF0 XML document (0x0F), AMF3 XMLDocument (0x07) or AMF3 XML (0x0B). */
export class AmfXml {
  /** The XML text. */
  readonly text: string;
  /** `true` for the E4X `XML` type of AMF3 (0x0B); `false` for an XML document. */
  readonly e4x: boolean;
  constructor(text: string, e4x = false) {
    this.text = text;
    this.e4x = e4x;
  }
}

/** Limits of the AMF decoders; a value past one is a `limit` {@link ProtocolError}. */
export interface AmfDecodeOptions {
  /** Objects and arrays nested in each other. @default {64} */
  maxDepth?: number;
  /** Entries of one object, array or dictionary, and values of one buffer. @default {65536} */
  maxItems?: number;
  /** Entries of each reference table (AMF0 objects; AMF3 strings, objects, traits). @default {65536} */
  maxReferences?: number;
}

/** {@link AmfDecodeOptions} with the defaults filled in. */
export interface AmfLimits {
  maxDepth: number;
  maxItems: number;
  maxReferences: number;
}

/** Fills in the defaults of {@link AmfDecodeOptions}. */
export function amfLimits(options: AmfDecodeOptions = {}): AmfLimits {
  return {
    maxDepth: options.maxDepth ?? 64,
    maxItems: options.maxItems ?? 65536,
    maxReferences: options.maxReferences ?? 65536,
  };
}

/** An ECMA array (tagged {@link AMF_ECMA_ARRAY}) with the given entries. */
export function ecmaArray(entries: Record<string, unknown> = {}): AmfObject {
  const obj = copyEntries(entries);
  obj[AMF_ECMA_ARRAY] = true;
  return obj;
}

/** A typed object of class `className` (tagged {@link AMF_CLASS_NAME}) with the given entries. */
export function typedObject(
  className: string,
  entries: Record<string, unknown> = {},
): AmfObject {
  const obj = copyEntries(entries);
  obj[AMF_CLASS_NAME] = className;
  return obj;
}

/** Whether `value` is an object tagged {@link AMF_ECMA_ARRAY}. */
export function isEcmaArray(value: unknown): value is AmfObject {
  return typeof value === "object" && value !== null &&
    (value as AmfObject)[AMF_ECMA_ARRAY] === true;
}

/** The class name of a typed object, or `undefined` for anything else. */
export function classNameOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const name = (value as AmfObject)[AMF_CLASS_NAME];
  return typeof name === "string" ? name : undefined;
}

/** Sets an own property; a `"__proto__"` key stays data and cannot replace the prototype. */
export function setProperty(
  obj: AmfObject,
  key: string,
  value: AmfValue,
): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

function copyEntries(entries: Record<string, unknown>): AmfObject {
  const obj: AmfObject = {};
  for (const key of Object.keys(entries)) {
    setProperty(obj, key, entries[key] as AmfValue);
  }
  return obj;
}

// ---------------------------------------------------------------------------
// UTF-8 and a writer that counts before it writes

const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // a leading U+FEFF is data
const encoder = new TextEncoder();

/**
 * Reads `length` bytes of UTF-8 at the reader's position, checked against
 * the bytes left before anything is decoded; invalid sequences become U+FFFD.
 */
export function readUtf8(reader: ByteReader, length: number): string {
  const at = reader.pos;
  reader.skip(length); // throws truncated when the data is shorter
  return utf8Range(reader.bytes, at, at + length);
}

const codes: number[] = [];

/** Short ASCII (most names and values) skips `TextDecoder` and its view. */
function utf8Range(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(bytes.subarray(start, end));
  codes.length = end - start;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
    codes[i - start] = b;
  }
  return String.fromCharCode.apply(null, codes);
}

/** Bytes `s` takes as UTF-8, as `TextEncoder` writes it (a lone surrogate becomes U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (
      (c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 2; // a pair: 2 units, 4 bytes
      i++;
    } else n += 2; // BMP or lone surrogate: 3 bytes
  }
  return n;
}

/**
 * Big-endian writer for the AMF encoders. Without a buffer it only counts
 * (`pos` is the size); given the buffer of that size, the same calls fill it.
 * One code path for both passes keeps size and content in step.
 */
export class AmfWriter {
  readonly #bytes: Uint8Array<ArrayBuffer> | undefined;
  readonly #view: DataView | undefined;
  /** Bytes counted or written so far. */
  pos = 0;

  constructor(bytes?: Uint8Array<ArrayBuffer>) {
    this.#bytes = bytes;
    this.#view = bytes &&
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(v: number): void {
    if (this.#bytes) this.#bytes[this.pos] = v;
    this.pos += 1;
  }
  u16(v: number): void {
    this.#view?.setUint16(this.pos, v);
    this.pos += 2;
  }
  i16(v: number): void {
    this.#view?.setInt16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.#view?.setUint32(this.pos, v >>> 0);
    this.pos += 4;
  }
  f64(v: number): void {
    this.#view?.setFloat64(this.pos, v);
    this.pos += 8;
  }
  /** AMF3 §1.3.1 variable-length unsigned 29-bit integer. */
  u29(v: number): void {
    if (v < 0x80) this.u8(v);
    else if (v < 0x4000) {
      this.u8((v >>> 7) | 0x80);
      this.u8(v & 0x7f);
    } else if (v < 0x200000) {
      this.u8((v >>> 14) | 0x80);
      this.u8(((v >>> 7) & 0x7f) | 0x80);
      this.u8(v & 0x7f);
    } else if (v <= 0x1fffffff) {
      this.u8((v >>> 22) | 0x80);
      this.u8(((v >>> 15) & 0x7f) | 0x80);
      this.u8(((v >>> 8) & 0x7f) | 0x80);
      this.u8(v & 0xff);
    } else {
      throw new RangeError(`Cannot encode AMF3 U29 ${v}: above 2^29 - 1`);
    }
  }
  /** Writes `s` as UTF-8; `byteLength` is its {@link utf8Length}. */
  utf8(s: string, byteLength: number): void {
    const bytes = this.#bytes;
    if (bytes) {
      if (byteLength === s.length) {
        for (let i = 0; i < s.length; i++) {
          bytes[this.pos + i] = s.charCodeAt(i);
        }
      } else {
        encoder.encodeInto(s, bytes.subarray(this.pos, this.pos + byteLength));
      }
    }
    this.pos += byteLength;
  }
  bytes(b: Uint8Array): void {
    this.#bytes?.set(b, this.pos);
    this.pos += b.length;
  }
}

// ---------------------------------------------------------------------------
// What AMF0 and AMF3 decode and encode alike

/** One AMF version as {@link decodeAll} and {@link encodeAll} drive it. */
export interface AmfFormat {
  /** A reader with fresh reference tables, kept for every value of a buffer. */
  reader(reader: ByteReader, limits: AmfLimits): {
    value(depth: number): AmfValue;
  };
  /** A writer with fresh reference tables, kept for every value of a buffer. */
  writer(writer: AmfWriter): { value(v: unknown): void };
  /** The `limit` error for a buffer of more than `max` values. */
  tooManyValues(max: number): ProtocolError;
}

/**
 * Decodes every value in `bytes` with one reader, so references reach
 * across values; more than `maxItems` values is a `limit` error.
 */
export function decodeAll(
  bytes: Uint8Array,
  format: AmfFormat,
  options?: AmfDecodeOptions,
): AmfValue[] {
  const limits = amfLimits(options);
  const reader = new ByteReader(bytes, "amf");
  const amf = format.reader(reader, limits);
  const values: AmfValue[] = [];
  while (reader.remaining > 0) {
    if (values.length >= limits.maxItems) {
      throw format.tooManyValues(limits.maxItems);
    }
    values.push(amf.value(0));
  }
  return values;
}

/**
 * Encodes `values` with one writer: a counting pass sizes the buffer, a
 * second pass over the same calls fills it.
 */
export function encodeAll(
  values: unknown[],
  format: AmfFormat,
): Uint8Array<ArrayBuffer> {
  const counter = new AmfWriter();
  const sizing = format.writer(counter);
  for (const v of values) sizing.value(v);
  const bytes = new Uint8Array(counter.pos);
  const filling = format.writer(new AmfWriter(bytes));
  for (const v of values) filling.value(v);
  return bytes;
}

// ---------------------------------------------------------------------------
// AMF3 decoding

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

/**
 * Decodes every AMF3 value in `bytes`, one set of reference tables for all.
 *
 * @throws {ProtocolError} `truncated`, `malformed`, `limit` or `unsupported`
 */
export function decodeAmf3(
  bytes: Uint8Array,
  options?: AmfDecodeOptions,
): AmfValue[] {
  return decodeAll(bytes, AMF3, options);
}

/**
 * Decodes one AMF3 value at the reader's position, with fresh reference tables.
 *
 * @throws {ProtocolError} `truncated`, `malformed`, `limit` or `unsupported`
 */
export function decodeAmf3Value(
  reader: ByteReader,
  options?: AmfDecodeOptions,
): AmfValue {
  return new Amf3Reader(reader, amfLimits(options)).value(0);
}

// ---------------------------------------------------------------------------
// AMF3 encoding

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

/**
 * Encodes values as AMF3 with one set of reference tables: undefined, null,
 * booleans, numbers (integer when they fit 29 bits, else double), strings,
 * `Date`, {@link AmfXml}, `Uint8Array` (ByteArray), `Int32Array`,
 * `Uint32Array` and `Float64Array` (vectors), `Map` (Dictionary), arrays
 * (dense), ECMA arrays (associative), and objects (dynamic, anonymous or
 * typed): whatever {@link decodeAmf3} returns. AMF3 cannot tell an empty
 * ECMA array from an empty dense one: it comes back as `[]`.
 *
 * @throws {TypeError} for a value AMF3 cannot carry
 */
export function encodeAmf3(...values: unknown[]): Uint8Array<ArrayBuffer> {
  return encodeAll(values, AMF3);
}

const AMF3: AmfFormat = {
  reader: (reader, limits) => new Amf3Reader(reader, limits),
  writer: (writer) => new Amf3Writer(writer),
  tooManyValues: (max) => tooMany("buffer", max),
};

function tooMany(what: string, max: number, count?: number): ProtocolError {
  const found = count === undefined ? "more than" : `${count} items exceed`;
  return fail("limit", `${what} with ${found} maxItems ${max}`);
}

function fail(code: ProtocolErrorCode, detail: string): ProtocolError {
  return new ProtocolError(`Cannot decode AMF3 value: ${detail}`, {
    protocol: "amf",
    code,
  });
}
