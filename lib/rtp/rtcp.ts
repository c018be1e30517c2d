/**
 * RTCP, RFC 3550 §6: compound packets of sender reports, receiver reports,
 * source descriptions and goodbyes; other packet types (APP, feedback) are
 * kept raw (model `rtcp_packet.ts`, `rtcp_decode.ts`, `rtcp_encode.ts`,
 * NTP times `ntp.ts`). Every packet starts with the same 32 bits:
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |  length (32-bit words - 1)    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * @module
 */

export {
  RTCP_PACKET_TYPE,
  type RtcpBye,
  type RtcpPacket,
  type RtcpPacketType,
  type RtcpRawPacket,
  type RtcpReceiverReport,
  type RtcpReportBlock,
  type RtcpSdesChunk,
  type RtcpSdesItem,
  type RtcpSenderReport,
  type RtcpSourceDescription,
  SDES_ITEM,
  type SdesItemType,
} from "./rtcp_packet.ts";
export { decodeRtcp } from "./rtcp_decode.ts";
export { encodeRtcp } from "./rtcp_encode.ts";
export * from "./ntp.ts";
