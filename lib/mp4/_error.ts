import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

/** A `ProtocolError` of the MP4 stage: "Cannot <action>: <detail>". */
export function mp4Error(
  action: string,
  code: ProtocolErrorCode,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot ${action}: ${detail}`, {
    protocol: "mp4",
    code,
  });
}
