import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";

/** A `ProtocolError` of the codec helpers: "Cannot <action>: <detail>". */
export function codecError(
  action: string,
  code: ProtocolErrorCode,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot ${action}: ${detail}`, {
    protocol: "codec",
    code,
  });
}
