/**
 * What the H.264 (RFC 6184) and H.265 (RFC 7798) payload formats share:
 * single NAL unit packets, aggregation packets (STAP-A / AP: a payload
 * header, then 16-bit sizes and NAL units), fragmentation units (FU-A / FU:
 * a payload header, an S|E|type byte, then a piece of one NAL unit), access
 * units cut by marker bit and timestamp, loss handling and parameter sets.
 * Only the header layouts differ; {@link NalFormat} describes them.
 *
 * @module
 */
export {
  decodeSpropList,
  NAL_RTP_CLOCK_RATE,
  type NalFormat,
  type NalPacketKind,
  type NalRtpPacket,
} from "./_nal_format.ts";
export {
  NalDepacketizer,
  type NalDepacketizerOptions,
} from "./_nal_depacketizer.ts";
export { NalPacketizer, type NalPacketizerOptions } from "./_nal_packetizer.ts";
