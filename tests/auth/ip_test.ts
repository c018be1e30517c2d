import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ipInRange,
  isLoopback,
  parseIp,
  parseIpRange,
} from "../../lib/auth/ip.ts";

const CASES: [string, string, boolean][] = [
  ["10.1.2.3", "10.0.0.0/8", true],
  ["11.1.2.3", "10.0.0.0/8", false],
  ["192.168.1.130", "192.168.1.128/25", true],
  ["192.168.1.127", "192.168.1.128/25", false],
  ["1.2.3.4", "0.0.0.0/0", true],
  ["1.2.3.4", "1.2.3.4", true],
  ["1.2.3.5", "1.2.3.4", false],
  ["::ffff:10.0.0.1", "10.0.0.0/8", true], // dual-stack sockets report this
  ["::1", "::1", true],
  ["::1", "127.0.0.1", false],
  ["fd00::abcd", "fd00::/8", true],
  ["fe80::1", "fd00::/8", false],
  ["2001:db8::1", "2001:db8::/32", true],
  ["2001:db9::1", "2001:db8::/32", false],
  ["[2001:db8::1]", "2001:db8:0:0::/64", true],
  ["not an ip", "0.0.0.0/0", false],
];
for (const [ip, range, inside] of CASES) {
  Deno.test(`ipInRange: ${ip} ${inside ? "is" : "is not"} in ${range}`, () => {
    const r = parseIpRange(range);
    assert.ok(r !== undefined, range);
    assert.equal(ipInRange(ip, r), inside);
  });
}

Deno.test("parseIpRange refuses what is no address or prefix", () => {
  for (
    const bad of [
      "10.0.0.0/33",
      "256.0.0.1",
      "1.2.3",
      "::1/129",
      "1::2::3",
      "12345::",
      "10.0.0.0/",
      "",
      "a.b.c.d",
      "1:2:3:4:5:6:7:8:9",
    ]
  ) {
    assert.equal(parseIpRange(bad), undefined, bad);
  }
});

Deno.test("parseIp reads the full and compressed IPv6 forms alike", () => {
  assert.deepEqual(parseIp("2001:db8:0:0:0:0:0:1"), parseIp("2001:db8::1"));
  assert.deepEqual(parseIp("::ffff:1.2.3.4")!.subarray(12), parseIp("1.2.3.4"));
  assert.ok(isLoopback("127.0.0.5") && isLoopback("::1"));
  assert.ok(isLoopback("::ffff:127.0.0.1"));
  assert.ok(!isLoopback("10.0.0.1"));
});

Deno.test("parseIp and parseIpRange never throw, whatever the text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      const ip = parseIp(s);
      assert.ok(ip === undefined || ip.length === 4 || ip.length === 16);
      parseIpRange(s);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("ipInRange agrees with a prefix comparison of IPv4 numbers", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 32 }),
      (a, b, prefix) => {
        const text = (n: number) =>
          [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join(".");
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const expected = ((a & mask) >>> 0) === ((b & mask) >>> 0);
        const r = parseIpRange(`${text(b)}/${prefix}`)!;
        assert.equal(ipInRange(text(a), r), expected);
      },
    ),
    { numRuns: 2000 },
  );
});
