/**
 * The JavaScript value model both AMF codecs share (see `amf3.ts` for the
 * table of AMF types and the values they decode to). Decoded objects keep
 * `Object.prototype`; a `"__proto__"` key becomes an own property
 * (`Object.defineProperty`), never the object's prototype.
 *
 * @module
 */

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
