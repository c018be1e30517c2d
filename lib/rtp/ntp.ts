/**
 * NTP timestamps (RFC 3550 §4) as RTCP sender reports carry them, and the
 * Unix milliseconds they stand for.
 *
 * @module
 */

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** An NTP timestamp as two 32-bit words. */
export interface NtpTime {
  ntpSeconds: number;
  ntpFraction: number;
}

/** The NTP timestamp (RFC 3550 §4) of a Unix time in milliseconds. */
export function msToNtp(unixMs: number): NtpTime {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.round(((unixMs - seconds * 1000) / 1000) * 0x100000000);
  if (fraction >= 0x100000000) {
    return {
      ntpSeconds: (seconds + 1 + NTP_UNIX_OFFSET_SECONDS) >>> 0,
      ntpFraction: 0,
    };
  }
  return {
    ntpSeconds: (seconds + NTP_UNIX_OFFSET_SECONDS) >>> 0,
    ntpFraction: fraction,
  };
}

/**
 * The Unix time in milliseconds of an NTP timestamp (era 0: 1900–2036; values
 * below 2^31 seconds are taken as era 1, after February 2036).
 */
export function ntpToMs(ntpSeconds: number, ntpFraction: number): number {
  const era = ntpSeconds < 0x80000000 ? 0x100000000 : 0;
  return (ntpSeconds + era - NTP_UNIX_OFFSET_SECONDS) * 1000 +
    (ntpFraction / 0x100000000) * 1000;
}

/**
 * The middle 32 bits of an NTP timestamp: what a receiver report echoes as
 * LSR (RFC 3550 §6.4.1).
 */
export function ntpMiddle32(ntpSeconds: number, ntpFraction: number): number {
  return (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
}
