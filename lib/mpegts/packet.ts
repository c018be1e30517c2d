/**
 * Transport stream packets, ISO/IEC 13818-1 §2.4.3.2: a payload cut into
 * 188-byte packets of one PID, each with its continuity counter, the first
 * one flagged as a unit start and optionally carrying a PCR and the random
 * access indicator in its adaptation field; the last one padded with
 * adaptation-field stuffing so the payload ends where the packet ends.
 *
 * ```
 * sync 0x47 (8) | TEI (1) | payload_unit_start (1) | priority (1) | PID (13)
 * scrambling (2) | adaptation_field_control (2) | continuity_counter (4)
 * [adaptation_field_length (8) | discontinuity (1) | random_access (1) | ES priority (1)
 *  | PCR_flag (1) | OPCR (1) | splicing (1) | private (1) | extension (1)
 *  | PCR base (33) reserved (6) extension (9) | stuffing 0xFF…]
 * payload
 * ```
 *
 * @module
 */

/** Bytes of a transport stream packet. */
export const TS_PACKET_SIZE = 188;
/** The sync byte every packet starts with. */
export const SYNC_BYTE = 0x47;
const HEADER_SIZE = 4;
/** Adaptation field length byte + flags byte + 6 bytes of PCR. */
const PCR_FIELD_SIZE = 8;

/** What the first packet of a unit says besides its payload. */
export interface UnitOptions {
  /** Program clock reference in 27 MHz ticks (base × 300 + extension). */
  pcr?: number;
  /** The unit starts a point a decoder can start at (a keyframe). */
  randomAccess?: boolean;
}

/** How many packets {@link writeUnit} makes of `size` payload bytes. */
export function packetCount(size: number, options: UnitOptions = {}): number {
  const firstRoom = TS_PACKET_SIZE - HEADER_SIZE -
    (options.pcr !== undefined ? PCR_FIELD_SIZE : options.randomAccess ? 2 : 0);
  if (size <= firstRoom) return 1;
  return 1 + Math.ceil((size - firstRoom) / (TS_PACKET_SIZE - HEADER_SIZE));
}

/**
 * Writes `payload` (a PES packet or a section with its pointer field) as
 * packets of `pid` into `out` at `at`; `counter` is the continuity counter
 * of the first packet. Returns the next counter. `out` must have room for
 * {@link packetCount} packets.
 */
export function writeUnit(
  out: Uint8Array,
  at: number,
  pid: number,
  counter: number,
  payload: Uint8Array,
  options: UnitOptions = {},
): number {
  let pos = 0;
  let first = true;
  while (first || pos < payload.length) {
    const p = out.subarray(at, at + TS_PACKET_SIZE);
    at += TS_PACKET_SIZE;
    const left = payload.length - pos;
    // Adaptation field of this packet before stuffing: PCR / flags on the first one.
    let field = 0;
    if (first && options.pcr !== undefined) field = PCR_FIELD_SIZE;
    else if (first && options.randomAccess) field = 2;
    let room = TS_PACKET_SIZE - HEADER_SIZE - field;
    if (left < room) {
      // Stuffing: one byte is the length byte alone, more add the flags byte and 0xFF.
      field += room - left;
      room = left;
    }
    p[0] = SYNC_BYTE;
    p[1] = (first ? 0x40 : 0) | ((pid >> 8) & 0x1f);
    p[2] = pid & 0xff;
    p[3] = (field > 0 ? 0x30 : 0x10) | (counter & 0x0f);
    counter = (counter + 1) & 0x0f;
    if (field > 0) {
      p[4] = field - 1; // adaptation_field_length counts the bytes after itself
      if (field > 1) {
        let flags = 0;
        let q = 6;
        if (first && options.randomAccess) flags |= 0x40;
        if (first && options.pcr !== undefined) {
          flags |= 0x10;
          writePcr(p, q, options.pcr);
          q += 6;
        }
        p[5] = flags;
        p.fill(0xff, q, HEADER_SIZE + field);
      }
    }
    p.set(payload.subarray(pos, pos + room), HEADER_SIZE + field);
    pos += room;
    first = false;
  }
  return counter;
}

/** PCR base (33 bits, 90 kHz) | 6 reserved bits | extension (9 bits, 27 MHz). */
function writePcr(p: Uint8Array, at: number, pcr27: number): void {
  const base = Math.floor(pcr27 / 300) % 2 ** 33;
  const ext = pcr27 % 300;
  p[at] = Math.floor(base / 2 ** 25) & 0xff;
  p[at + 1] = Math.floor(base / 2 ** 17) & 0xff;
  p[at + 2] = Math.floor(base / 2 ** 9) & 0xff;
  p[at + 3] = Math.floor(base / 2) & 0xff;
  p[at + 4] = ((base & 1) << 7) | 0x7e | ((ext >> 8) & 1);
  p[at + 5] = ext & 0xff;
}
