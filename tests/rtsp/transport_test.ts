import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspError } from "../../lib/rtsp/error.ts";
import {
  parseTransport,
  stringifyTransport,
  type Transport,
} from "../../lib/rtsp/headers/transport.ts";

const CASES: { name: string; value: string; transports: Transport[] }[] = [
  {
    // RFC 2326 §12.39 example: two specs, the first multicast
    name: "the §12.39 example of two specs",
    value:
      'RTP/AVP;multicast;ttl=127;mode="PLAY", RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
    transports: [
      { lowerTransport: "UDP", delivery: "multicast", ttl: 127, mode: "play" },
      {
        lowerTransport: "UDP",
        delivery: "unicast",
        clientPort: { rtp: 3456, rtcp: 3457 },
        mode: "play",
      },
    ],
  },
  {
    name: "ffmpeg publishing over TCP",
    value: "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
    transports: [{
      lowerTransport: "TCP",
      delivery: "unicast",
      interleaved: { rtp: 0, rtcp: 1 },
      mode: "record",
    }],
  },
  {
    name: "ffmpeg: mode=receive, the old alias of record",
    value: "RTP/AVP/UDP;unicast;client_port=25790-25791;mode=receive",
    transports: [{
      lowerTransport: "UDP",
      delivery: "unicast",
      clientPort: { rtp: 25790, rtcp: 25791 },
      mode: "record",
    }],
  },
  {
    name: "GStreamer rtspsrc over UDP",
    value: "RTP/AVP;unicast;client_port=36936-36937",
    transports: [{
      lowerTransport: "UDP",
      delivery: "unicast",
      clientPort: { rtp: 36936, rtcp: 36937 },
    }],
  },
  {
    name: "Axis: a reply with server_port, ssrc and a quoted mode",
    value:
      'RTP/AVP;unicast;client_port=20000-20001;server_port=50000-50001;ssrc=B0BA7855;mode="PLAY"',
    transports: [{
      lowerTransport: "UDP",
      delivery: "unicast",
      clientPort: { rtp: 20000, rtcp: 20001 },
      serverPort: { rtp: 50000, rtcp: 50001 },
      ssrc: 0xb0ba7855,
      mode: "play",
    }],
  },
  {
    name:
      "destination, source, one channel, a short ssrc and unknown parameters",
    value:
      "rtp/avp/tcp;UNICAST;destination=10.0.0.5;source=10.0.0.1;interleaved=4;ssrc=1f;x-dynamic-rate=1;RTCP-mux",
    transports: [{
      lowerTransport: "TCP",
      delivery: "unicast",
      destination: "10.0.0.5",
      source: "10.0.0.1",
      interleaved: { rtp: 4 },
      ssrc: 0x1f,
      other: ["x-dynamic-rate=1", "RTCP-mux"],
    }],
  },
  {
    name: "multicast with port and layers, append",
    value:
      "RTP/AVP;multicast;destination=224.2.0.1;port=3456-3457;ttl=16;layers=2;append",
    transports: [{
      lowerTransport: "UDP",
      delivery: "multicast",
      destination: "224.2.0.1",
      port: { rtp: 3456, rtcp: 3457 },
      ttl: 16,
      layers: 2,
      append: true,
    }],
  },
  {
    name: "RTP/SAVPF skipped for the RTP/AVP that follows",
    value:
      "RTP/SAVPF;unicast;client_port=1000-1001,RTP/AVP;unicast;client_port=2000-2001",
    transports: [{
      lowerTransport: "UDP",
      delivery: "unicast",
      clientPort: { rtp: 2000, rtcp: 2001 },
    }],
  },
  {
    // GStreamer rtspsrc on an SDP that says RTP/SAVP (RFC 3711 over RTSP)
    name: "RTP/SAVP over UDP and RTP/SAVP/TCP, with their profile",
    value:
      "RTP/SAVP;unicast;client_port=5000-5001,RTP/SAVP/TCP;unicast;interleaved=0-1",
    transports: [{
      lowerTransport: "UDP",
      profile: "SAVP",
      delivery: "unicast",
      clientPort: { rtp: 5000, rtcp: 5001 },
    }, {
      lowerTransport: "TCP",
      profile: "SAVP",
      delivery: "unicast",
      interleaved: { rtp: 0, rtcp: 1 },
    }],
  },
];

for (const c of CASES) {
  Deno.test(`parseTransport reads ${c.name}`, () => {
    assert.deepEqual(parseTransport(c.value), c.transports);
    assert.deepEqual(
      parseTransport(stringifyTransport(c.transports)),
      c.transports,
    );
  });
}

Deno.test("stringifyTransport writes specs as servers answer them", () => {
  assert.equal(
    stringifyTransport({
      lowerTransport: "TCP",
      delivery: "unicast",
      interleaved: { rtp: 2, rtcp: 3 },
      ssrc: 0x1234,
    }),
    "RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00001234",
  );
  assert.equal(
    stringifyTransport([
      {
        lowerTransport: "UDP",
        delivery: "unicast",
        clientPort: { rtp: 5000, rtcp: 5001 },
        serverPort: { rtp: 8000, rtcp: 8001 },
      },
      { lowerTransport: "TCP", interleaved: { rtp: 0, rtcp: 1 } },
    ]),
    "RTP/AVP;unicast;client_port=5000-5001;server_port=8000-8001,RTP/AVP/TCP;interleaved=0-1",
  );
});

const ERRORS: [string, string, number][] = [
  ["only RTP/SAVPF", "RTP/SAVPF;unicast;client_port=1-2", 461],
  ["RTP/AVPF", "RTP/AVPF;unicast", 461],
  ["an empty value", "", 461],
  ["mode=TEARDOWN", "RTP/AVP;unicast;mode=TEARDOWN", 461],
  ["two modes", 'RTP/AVP;unicast;mode="PLAY,RECORD"', 461],
  // Kodi and friends: malformed values answer 400
  ["a protocol with spaces", "RTP AVP;unicast", 400],
  ["no protocol", ";unicast;client_port=1-2", 400],
  ["client_port without a value", "RTP/AVP/UDP;unicast;client_port=", 400],
  ["a non-numeric client_port", "RTP/AVP;unicast;client_port=abc-def", 400],
  ["a port over 65535", "RTP/AVP;unicast;client_port=70000-70001", 400],
  ["a channel over 255", "RTP/AVP/TCP;interleaved=0-300", 400],
  ["a negative port", "RTP/AVP;unicast;client_port=-1", 400],
  ["three ports", "RTP/AVP;unicast;client_port=1-2-3", 400],
  ["a ttl over 255", "RTP/AVP;multicast;ttl=999", 400],
  ["an ssrc that is not hex", "RTP/AVP;unicast;ssrc=XYZ", 400],
  ["an ssrc of 9 digits", "RTP/AVP;unicast;ssrc=123456789", 400],
  ["unicast twice", "RTP/AVP;unicast;unicast", 400],
  ["unicast and multicast", "RTP/AVP;unicast;multicast", 400],
  ["client_port twice", "RTP/AVP;unicast;client_port=1-2;client_port=3-4", 400],
  ["unicast with a value", "RTP/AVP;unicast=1", 400],
  ["an open quote", 'RTP/AVP;unicast;mode="PLAY', 400],
  [
    "a destination with spaces",
    'RTP/AVP;unicast;destination="10.0.0.1 10.0.0.2"',
    400,
  ],
  ["a bad parameter name", "RTP/AVP;unicast;cl(ient=1", 400],
  ["more than 16 specs", Array(17).fill("RTP/AVP").join(","), 400],
  [
    "a value over 4096 characters",
    `RTP/AVP;unicast;x=${"a".repeat(4100)}`,
    400,
  ],
];

for (const [name, value, status] of ERRORS) {
  Deno.test(`parseTransport refuses ${name} with ${status}`, () => {
    assert.throws(() => parseTransport(value), (e) => {
      assert.ok(e instanceof RtspError);
      assert.equal(e.status, status);
      assert.match(e.message, /^Cannot parse transport "/);
      return true;
    });
  });
}

const pair = (max: number) =>
  fc.record({
    rtp: fc.integer({ min: 0, max }),
    rtcp: fc.integer({ min: 0, max }),
  }, { requiredKeys: ["rtp"], noNullPrototype: true });
const address = fc.stringMatching(/^[0-9a-f.:]{1,39}$/);
const arbitraryTransport: fc.Arbitrary<Transport> = fc.record({
  lowerTransport: fc.constantFrom("UDP" as const, "TCP" as const),
  delivery: fc.constantFrom("unicast" as const, "multicast" as const),
  destination: address,
  source: address,
  interleaved: pair(255),
  clientPort: pair(65535),
  serverPort: pair(65535),
  port: pair(65535),
  ttl: fc.integer({ min: 0, max: 255 }),
  layers: fc.integer({ min: 0, max: 255 }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  mode: fc.constantFrom("play" as const, "record" as const),
  append: fc.constant(true),
  // A parameter may appear once per spec (a repeat is a 400), so names are distinct.
  other: fc.uniqueArray(fc.stringMatching(/^x-[a-z]{1,8}(=[0-9a-z]{1,4})?$/), {
    minLength: 1,
    maxLength: 2,
    selector: (p) => p.split("=")[0]!,
  }),
}, { requiredKeys: ["lowerTransport"], noNullPrototype: true });

Deno.test("stringifyTransport → parseTransport returns arbitrary specs", () => {
  fc.assert(
    fc.property(
      fc.array(arbitraryTransport, { minLength: 1, maxLength: 3 }),
      (specs) => {
        assert.deepEqual(parseTransport(stringifyTransport(specs)), specs);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("parseTransport gives specs or an RtspError for random and mutated input", () => {
  const pieces = fc.constantFrom(
    "RTP/AVP",
    "RTP/AVP/TCP",
    "RTP/SAVP",
    ";",
    ",",
    "=",
    "-",
    '"',
    "unicast",
    "multicast",
    "client_port",
    "interleaved",
    "mode",
    "PLAY",
    "receive",
    "ssrc",
    "destination",
    "0",
    "65535",
    "70000",
    "ff",
    " ",
    "\\",
  );
  const input = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.array(pieces, { maxLength: 24 }).map((p) => p.join("")),
  );
  fc.assert(
    fc.property(input, (value) => {
      try {
        const specs = parseTransport(value);
        assert.ok(specs.length > 0);
        assert.deepEqual(parseTransport(stringifyTransport(specs)), specs);
      } catch (e) {
        if (
          !(e instanceof RtspError) || (e.status !== 400 && e.status !== 461)
        ) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});
