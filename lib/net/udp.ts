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
