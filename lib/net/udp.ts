/**
 * UDP sockets: every `Deno.listenDatagram` of Sluice goes through here.
 *
 * @module
 */

import { listenError } from "./tcp.ts";

/** Binds a UDP socket; a failure names the address. */
export function listenUdp(hostname: string, port: number): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ transport: "udp", hostname, port });
  } catch (e) {
    throw listenError("UDP", hostname, port, e);
  }
}

/** Calls `onDatagram` for each datagram until the socket closes. */
export async function receiveDatagrams(
  socket: Deno.DatagramConn,
  onDatagram: (data: Uint8Array, from: Deno.NetAddr) => void,
): Promise<void> {
  for (;;) {
    let data: Uint8Array;
    let from: Deno.NetAddr;
    try {
      [data, from] = (await socket.receive()) as [Uint8Array, Deno.NetAddr];
    } catch {
      return; // closed
    }
    onDatagram(data, from);
  }
}

/** An RTP socket on an even port and the RTCP socket on the port after it. */
export interface UdpPair {
  rtp: Deno.DatagramConn;
  rtcp: Deno.DatagramConn;
  /** The RTP port. */
  port: number;
}

/**
 * Binds an even RTP port and the odd RTCP port after it (RFC 3550 §11), as
 * RTSP servers expect a `client_port` range; undefined when none is free
 * after a few tries.
 */
export function listenUdpPair(hostname: string): UdpPair | undefined {
  for (let i = 0; i < 50; i++) {
    const probe = listenUdp(hostname, 0);
    const port = (probe.addr as Deno.NetAddr).port;
    if (port % 2 === 0 && port < 65535) {
      try {
        const rtcp = listenUdp(hostname, port + 1);
        return { rtp: probe, rtcp, port };
      } catch {
        // the odd port is taken: try another pair
      }
    }
    probe.close();
  }
  return undefined;
}
