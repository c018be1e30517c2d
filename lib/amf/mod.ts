/**
 * AMF0 and AMF3: the encodings of RTMP command and data messages and of FLV
 * SCRIPTDATA, mapped to plain JavaScript values.
 *
 * @example Decode what a publisher sends with `@setDataFrame`
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeAmf0, ecmaArray, encodeAmf0, isEcmaArray } from "./mod.ts";
 *
 * const bytes = encodeAmf0("@setDataFrame", "onMetaData", ecmaArray({ width: 1280 }));
 * const [handler, name, meta] = decodeAmf0(bytes);
 * assert.equal(handler, "@setDataFrame");
 * assert.equal(name, "onMetaData");
 * assert.ok(isEcmaArray(meta));
 * assert.equal(meta.width, 1280);
 * ```
 *
 * @module
 */
export {
  AMF0_MARKER,
  type Amf0Marker,
  decodeAmf0,
  decodeAmf0Value,
  encodeAmf0,
} from "./amf0.ts";
export {
  AMF3_MARKER,
  type Amf3Marker,
  AMF_CLASS_NAME,
  AMF_ECMA_ARRAY,
  type AmfDecodeOptions,
  type AmfObject,
  type AmfValue,
  AmfXml,
  classNameOf,
  decodeAmf3,
  decodeAmf3Value,
  ecmaArray,
  encodeAmf3,
  isEcmaArray,
  typedObject,
} from "./amf3.ts";
