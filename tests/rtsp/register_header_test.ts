/**
 * The Transport header of REGISTER and DEREGISTER, as live555's
 * RTSPRegisterSender writes it and RTSPServerWithREGISTERProxying reads it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspError } from "../../lib/rtsp/error.ts";
import {
  parseRegisterTransport,
  type RegisterTransport,
  stringifyRegisterTransport,
} from "../../lib/rtsp/headers/register.ts";

const CASES: {
  name: string;
  value: string | undefined;
  parsed: RegisterTransport;
}[] = [
  { name: "no header", value: undefined, parsed: { reuseConnection: false } },
  {
    name: "live555 RTSPRegisterSender: reuse, interleaved, suffix",
    value:
      "reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=cam1",
    parsed: {
      reuseConnection: true,
      preferredDelivery: "interleaved",
      proxyUrlSuffix: "cam1",
    },
  },
  {
    name: "live555 without reuse and suffix",
    value: "preferred_delivery_protocol=udp",
    parsed: { reuseConnection: false, preferredDelivery: "udp" },
  },
  {
    name: "live555 documentation's proxy_URL_suffix, other case and spacing",
    value:
      "Reuse_Connection;PREFERRED_DELIVERY_PROTOCOL=Interleaved ;  proxy_URL_suffix=site/cam%201",
    parsed: {
      reuseConnection: true,
      preferredDelivery: "interleaved",
      proxyUrlSuffix: "site/cam%201",
    },
  },
  {
    name: "DEREGISTER: the suffix alone, quoted",
    value: 'proxy_url_suffix="a/b"',
    parsed: { reuseConnection: false, proxyUrlSuffix: "a/b" },
  },
  {
    name: "unknown parameters skipped, as live555 does",
    value: "RTP/AVP/TCP;unicast;reuse_connection;x-foo=1",
    parsed: { reuseConnection: true },
  },
];

for (const c of CASES) {
  Deno.test(`parseRegisterTransport reads ${c.name}`, () => {
    assert.deepEqual(parseRegisterTransport(c.value), c.parsed);
  });
}

Deno.test("stringifyRegisterTransport writes what live555 writes", () => {
  assert.equal(
    stringifyRegisterTransport({
      reuseConnection: true,
      preferredDelivery: "interleaved",
      proxyUrlSuffix: "site/cam1",
    }),
    "reuse_connection; preferred_delivery_protocol=interleaved; proxy_url_suffix=site/cam1",
  );
  assert.equal(
    stringifyRegisterTransport({ reuseConnection: false, proxyUrlSuffix: "x" }),
    "proxy_url_suffix=x",
  );
  assert.throws(
    () =>
      stringifyRegisterTransport({
        reuseConnection: true,
        proxyUrlSuffix: "a;b",
      }),
    TypeError,
  );
});

for (
  const [name, value] of [
    ["an open quote", 'proxy_url_suffix="cam'],
    ["a parameter twice", "proxy_url_suffix=a; proxy_url_suffix=b"],
    ["an empty suffix", "reuse_connection; proxy_url_suffix="],
    ["an unknown delivery", "preferred_delivery_protocol=multicast"],
    ["a value too long", `proxy_url_suffix=${"a".repeat(3000)}`],
    [
      "too many parameters",
      Array(40).fill("x").map((x, i) => `${x}${i}`).join(";"),
    ],
  ] as const
) {
  Deno.test(`parseRegisterTransport answers ${name} with 400`, () => {
    assert.throws(() => parseRegisterTransport(value), {
      name: "RtspError",
      status: 400,
    });
  });
}

Deno.test("parseRegisterTransport gives parameters or a 400 for random input, and they round-trip", () => {
  const pieces = fc.constantFrom(
    "reuse_connection",
    "preferred_delivery_protocol",
    "proxy_url_suffix",
    "interleaved",
    "udp",
    "=",
    ";",
    '"',
    " ",
    "\\",
    "cam/1",
    "..",
    "%2e",
  );
  const input = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(pieces, { maxLength: 20 }).map((p) => p.join("")),
  );
  fc.assert(
    fc.property(input, (value) => {
      let parsed: RegisterTransport;
      try {
        parsed = parseRegisterTransport(value);
      } catch (e) {
        if (!(e instanceof RtspError) || e.status !== 400) throw e;
        return;
      }
      let text: string;
      try {
        text = stringifyRegisterTransport(parsed);
      } catch (e) {
        if (e instanceof TypeError) return; // a suffix that cannot be written bare
        throw e;
      }
      assert.deepEqual(parseRegisterTransport(text), parsed);
    }),
    { numRuns: 3000 },
  );
});
