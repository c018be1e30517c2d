/**
 * What each end of an RTMP connection owes the other whatever it streams:
 * a Ping Response to each Ping Request (§6.2) and an Acknowledgement each
 * time the bytes received pass the peer's window (§5.4.3).
 *
 * @module
 */

import {
  acknowledgement,
  decodeControl,
  decodeUserControl,
  pingResponse,
} from "./control.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "./message.ts";

/** Tracks the peer's acknowledgement window and answers its pings. */
export class PeerControl {
  #window = 0;
  #lastAck = 0;

  /**
   * A message from the peer: the Ping Response to send for a Ping Request,
   * else undefined; a Window Acknowledgement Size is noted.
   */
  handle(m: RtmpMessage): RtmpMessage | undefined {
    if (m.typeId === MESSAGE_TYPE.USER_CONTROL) {
      const ev = decodeUserControl(m.payload);
      return ev.type === "pingRequest" ? pingResponse(ev.timestamp) : undefined;
    }
    if (m.typeId === MESSAGE_TYPE.WINDOW_ACK_SIZE) {
      const c = decodeControl(m);
      if (c?.type === "windowAckSize") this.#window = c.size;
    }
    return undefined;
  }

  /** The Acknowledgement owed after `bytesIn` bytes in all, if the window has passed. */
  ack(bytesIn: number): RtmpMessage | undefined {
    if (this.#window === 0 || bytesIn - this.#lastAck < this.#window) {
      return undefined;
    }
    this.#lastAck = bytesIn;
    return acknowledgement(bytesIn >>> 0);
  }
}
