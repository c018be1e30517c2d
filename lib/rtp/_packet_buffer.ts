/**
 * The buffers packetizers write packets into, with room in front for a
 * framing written there later (RTSP's interleaved header), so that framing
 * costs no copy of the packet (private to `rtp/`).
 *
 * @module
 */

/** A checked `headroom` option of a packetizer: 0 to 64 bytes. */
export function headroomOf(headroom = 0): number {
  if (!Number.isInteger(headroom) || headroom < 0 || headroom > 64) {
    throw new RangeError(
      `Cannot packetize: headroom "${headroom}" is not 0 to 64`,
    );
  }
  return headroom;
}

/** A packet of `size` bytes behind `headroom` free ones, in one allocation. */
export function packetBuffer(
  headroom: number,
  size: number,
): Uint8Array<ArrayBuffer> {
  return headroom === 0
    ? new Uint8Array(size)
    : new Uint8Array(new ArrayBuffer(headroom + size), headroom, size);
}
