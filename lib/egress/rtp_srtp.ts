/**
 * SRTP for the RTSP readers of a stream, encrypted once: every track has
 * one master key for all its SRTP readers (as multicast must), so a packet
 * is protected once, the first time an SRTP reader needs it, and the same
 * bytes go to all of them. The price: every SRTP reader of a track holds
 * the key the others receive with, so any of them could read (it reads the
 * same anyway) or forge packets to the others if it can spoof the server's
 * address.
 *
 * @module
 */

import type { TrackFormat } from "../format/tracks.ts";
import { randomMasterKey, type SrtpMasterKey } from "../srtp/keys.ts";
import { encodeMikey } from "../srtp/mikey.ts";
import { stringifyKeyMgmt } from "../srtp/mikey_decode.ts";
import { SrtpContext } from "../srtp/context.ts";
import type { Packet } from "./packet.ts";

/** An RTP packet that knows the ROC it was sent with, and its SRTP form once made. */
export interface SrtpSource extends Packet {
  /** Roll-over counter of the packet's SSRC when it was packetized. */
  roc: number;
  /** The packet as SRTP, protected once for all SRTP readers. */
  secure?: Packet;
}

/** What a DESCRIBE needs to give a track's key in MIKEY. */
export interface SrtpOffer {
  master: SrtpMasterKey;
  ssrc: number;
  roc: number;
}

const KEYS = new WeakMap<object, Map<number, SrtpMasterKey>>();

/**
 * The master key of track `trackId` of `stream` (any object standing for
 * it), made on first use and kept as long as the stream: a DESCRIBE and
 * the PLAY after it see the same key even when the stream's RTP output is
 * made anew in between.
 */
export function streamSrtpKey(stream: object, trackId: number): SrtpMasterKey {
  let keys = KEYS.get(stream);
  if (keys === undefined) {
    keys = new Map();
    KEYS.set(stream, keys);
  }
  let key = keys.get(trackId);
  if (key === undefined) {
    key = randomMasterKey();
    keys.set(trackId, key);
  }
  return key;
}

/** The sending SRTP contexts of an output's tracks. */
export class SrtpSender {
  readonly #keyOf: (trackId: number) => SrtpMasterKey;
  readonly #contexts = new Map<number, SrtpContext>();

  constructor(keyOf: (trackId: number) => SrtpMasterKey) {
    this.#keyOf = keyOf;
  }

  /** The master key of a track. */
  key(trackId: number): SrtpMasterKey {
    return this.#keyOf(trackId);
  }

  /** The SRTP form of an RTP packet of `trackId`, made once. */
  rtp(trackId: number, p: SrtpSource): Packet {
    p.secure ??= {
      bytes: this.#context(trackId).protectRtp(p.bytes, p.roc),
      kind: p.kind,
    };
    return p.secure;
  }

  /** The SRTCP form of an RTCP packet of `trackId`, made once (each protection takes an SRTCP index). */
  rtcp(trackId: number, p: Packet & { secure?: Packet }): Packet {
    p.secure ??= {
      bytes: this.#context(trackId).protectRtcp(p.bytes),
      kind: p.kind,
    };
    return p.secure;
  }

  #context(trackId: number): SrtpContext {
    let c = this.#contexts.get(trackId);
    if (c === undefined) {
      c = new SrtpContext(this.#keyOf(trackId), { maxSsrcs: 16 });
      this.#contexts.set(trackId, c);
    }
    return c;
  }
}

/**
 * `formats` as RTP/SAVP media, each with its key in MIKEY (RFC 4567 §3.1,
 * `a=key-mgmt:mikey`): the master key, and the SSRC and roll-over counter
 * its packets go out with. What a DESCRIBE answers on RTSPS and what the
 * client's ANNOUNCE sends.
 */
export function withSrtpKeys(
  formats: readonly TrackFormat[],
  offerOf: (trackId: number) => SrtpOffer | undefined,
): TrackFormat[] {
  return formats.map((f) => {
    const offer = offerOf(f.track.id);
    if (offer === undefined) return f;
    const mikey = encodeMikey(offer.master, {
      sessions: [{ ssrc: offer.ssrc, roc: offer.roc }],
    });
    return {
      ...f,
      media: {
        ...f.media,
        protocol: "RTP/SAVP",
        attributes: [
          ...f.media.attributes,
          { name: "key-mgmt", value: stringifyKeyMgmt(mikey) },
        ],
      },
    };
  });
}
