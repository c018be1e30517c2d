/**
 * AMF3 (Adobe, "AMF 3 Specification", January 2013) and the JavaScript value
 * model both AMF codecs share: the model is `value.ts`, decoding
 * `amf3_reader.ts`, encoding `amf3_writer.ts`, all re-exported here.
 * AMF0 embeds AMF3 (the avmplus-object marker, 0x11), so `amf0.ts` imports
 * this file and never the reverse.
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

import type { ByteReader } from "../binary.ts";
import { type AmfFormat, decodeAll, encodeAll } from "./_codec.ts";
import { Amf3Reader, tooMany } from "./amf3_reader.ts";
import { Amf3Writer } from "./amf3_writer.ts";
import { type AmfDecodeOptions, amfLimits, type AmfValue } from "./value.ts";

export * from "./value.ts";
export * from "./_codec.ts";
export { AMF3_MARKER, type Amf3Marker, Amf3Reader } from "./amf3_reader.ts";
export { Amf3Writer } from "./amf3_writer.ts";

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
