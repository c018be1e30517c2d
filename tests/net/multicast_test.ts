import assert from "node:assert/strict";
import { isMulticastV4, multicastSender } from "../../lib/net/multicast.ts";

// <netinet/in.h>
const IPPROTO_IP = 0;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;

/** An IPPROTO_IP option of every UDP socket bound to `port` (through /proc: its inode, then FFI on our descriptors). */
function ipOption(port: number, option: number): number[] {
  const libc = Deno.dlopen("libc.so.6", {
    getsockopt: {
      parameters: ["i32", "i32", "i32", "buffer", "buffer"],
      result: "i32",
    },
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  });
  try {
    const out: number[] = [];
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(e.name);
      const name = new Uint8Array(32);
      const len = new Uint32Array([32]);
      if (
        libc.symbols.getsockname(fd, name, new Uint8Array(len.buffer)) !== 0 ||
        name[0] !== 2 || ((name[2]! << 8) | name[3]!) !== port
      ) continue;
      const value = new Uint8Array(4);
      const vlen = new Uint32Array([4]);
      libc.symbols.getsockopt(
        fd,
        IPPROTO_IP,
        option,
        value,
        new Uint8Array(vlen.buffer),
      );
      out.push(new DataView(value.buffer).getUint32(0, true));
    }
    return out;
  } finally {
    libc.close();
  }
}

Deno.test("multicastSender sets IP_MULTICAST_TTL and IP_MULTICAST_IF with setsockopt", async () => {
  const s = await multicastSender("127.0.0.1", "224.1.0.1", {
    ttl: 7,
    interfaceAddress: "127.0.0.1",
  });
  try {
    assert.equal(s.options, "setsockopt");
    const port = (s.socket.addr as Deno.NetAddr).port;
    const ttl = ipOption(port, IP_MULTICAST_TTL);
    assert.ok(ttl.length >= 1 && ttl.every((t) => t === 7), `${ttl}`);
    // struct in_addr 127.0.0.1 in network order, read as a little-endian word
    const iface = ipOption(port, IP_MULTICAST_IF);
    assert.ok(iface.every((a) => a === 0x0100007f), `${iface}`);
  } finally {
    s.socket.close();
  }
});

Deno.test("isMulticastV4 takes 224.0.0.0/4 only", () => {
  for (const a of ["224.0.0.1", "224.1.0.1", "239.255.255.255"]) {
    assert.equal(isMulticastV4(a), true, a);
  }
  for (
    const a of [
      "223.255.255.255",
      "240.0.0.1",
      "127.0.0.1",
      "224.1.0",
      "",
      "224.1.0.256",
      "ff02::1",
      "x",
    ]
  ) {
    assert.equal(isMulticastV4(a), false, a);
  }
});
