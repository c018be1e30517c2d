import assert from "node:assert/strict";
import {
  type Config,
  ConfigError,
  parseAddress,
  parseConfig,
  parseDuration,
  parseMulticastRange,
  parseSize,
} from "../../lib/config/mod.ts";

const DEFAULTS: Config = {
  logLevel: "info",
  logFormat: "text",
  readTimeout: 10_000,
  writeTimeout: 10_000,
  writeQueueSize: 8 * 1024 * 1024,
  writeBatchInterval: 100,
  overridePublisher: "auto",
  overridePublisherIdle: 2_000,
  publisherGracePeriod: 5_000,
  playWaitTimeout: 3_000,
  gopCache: true,
  rtmp: true,
  rtmpAddress: ":1935",
  rtmpChunkSize: 4096,
  rtmpMaxMessageSize: 16 * 1024 * 1024,
  rtmpMaxChunkSize: 16 * 1024 * 1024,
  rtsp: true,
  rtspAddress: ":8554",
  rtpAddress: ":8000",
  rtcpAddress: ":8001",
  rtspSessionTimeout: 60_000,
  tlsCert: "",
  tlsKey: "",
  rtspsAddress: ":8322",
  rtspsCert: "",
  rtspsKey: "",
  rtmpsAddress: ":1936",
  rtmpsCert: "",
  rtmpsKey: "",
  rtspTunnelAddresses: [],
  srtp: "optional",
  multicastIPRange: "224.1.0.0/16",
  multicastRTPPort: 8002,
  multicastRTCPPort: 8003,
  multicastTTL: 16,
  http: true,
  httpAddress: ":8080",
  rtmpt: true,
  vodPath: "",
  record: false,
  recordFormat: "fmp4",
  recordPath: "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f",
  recordPartDuration: 1_000,
  recordSegmentDuration: 3_600_000,
  recordDeleteAfter: 86_400_000,
  recordFsync: false,
  playback: true,
  api: true,
  metrics: true,
  hls: true,
  hlsVariant: "lowLatency",
  hlsSegmentDuration: 1_000,
  hlsPartDuration: 200,
  hlsSegmentCount: 7,
  hlsAlwaysRemux: false,
  hlsMuxerCloseAfter: 60_000,
  authHTTPAddress: "",
  authJWTJWKS: "",
  webhooks: [],
  paths: {},
};

/** The problems parseConfig reports for `input`. */
function problemsOf(input: unknown): readonly string[] {
  try {
    parseConfig(input);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.message, error.problems.join("\n"));
    return error.problems;
  }
  assert.fail("parseConfig accepted the input");
}

Deno.test("parseConfig fills every default with no input", () => {
  assert.deepEqual(parseConfig(undefined), DEFAULTS);
  assert.deepEqual(parseConfig({}), DEFAULTS);
  assert.deepEqual(parseConfig(null), DEFAULTS);
});

Deno.test("parseConfig keeps given values and converts units", () => {
  const config = parseConfig({
    logLevel: "debug",
    readTimeout: "1m30s",
    writeTimeout: 2500,
    writeQueueSize: "512KiB",
    overridePublisher: false,
    rtmpAddress: "127.0.0.1:0",
    rtmpChunkSize: "60000",
    rtmpMaxMessageSize: "1MB",
    paths: { "live/cam1": { overridePublisher: false }, "live/any": null },
  });
  assert.equal(config.logLevel, "debug");
  assert.equal(config.readTimeout, 90_000);
  assert.equal(config.writeTimeout, 2500);
  assert.equal(config.writeQueueSize, 512 * 1024);
  assert.equal(config.overridePublisher, false);
  assert.equal(config.rtmpAddress, "127.0.0.1:0");
  assert.equal(config.rtmpChunkSize, 60000);
  assert.equal(config.rtmpMaxMessageSize, 1_000_000);
  assert.deepEqual(config.paths, {
    "live/cam1": { overridePublisher: false },
    "live/any": {},
  });
});

Deno.test("parseConfig reads overridePublisher as auto, true or false, globally and per path", () => {
  for (
    const [input, value] of [
      ["auto", "auto"],
      [" AUTO ", "auto"],
      [true, true],
      ["yes", true],
      [false, false],
      ["off", false],
    ] as const
  ) {
    const config = parseConfig({
      overridePublisher: input,
      paths: { cam: { overridePublisher: input } },
    });
    assert.equal(config.overridePublisher, value, String(input));
    assert.equal(config.paths["cam"]?.overridePublisher, value);
  }
  assert.equal(
    parseConfig({ overridePublisherIdle: "500ms" }).overridePublisherIdle,
    500,
  );
});

Deno.test("Config types hold numbers for durations and sizes", () => {
  const config = parseConfig({});
  const ms: number = config.readTimeout;
  const bytes: number = config.writeQueueSize;
  const address: string = config.rtmpAddress;
  const perPath: boolean | "auto" | undefined = config.paths["x"]
    ?.overridePublisher;
  // @ts-expect-error: unknown keys are not part of the type
  config.rtmpAdress;
  assert.deepEqual([ms, bytes, address, perPath], [
    10_000,
    8 * 1024 * 1024,
    ":1935",
    undefined,
  ]);
});

const DURATIONS: [unknown, number | undefined][] = [
  ["10s", 10_000],
  ["500ms", 500],
  ["2m", 120_000],
  ["1h", 3_600_000],
  ["1m30s", 90_000],
  ["1.5s", 1500],
  ["250", 250],
  [0, 0],
  [1234, 1234],
  [" 3s ", 3000],
  ["10", 10],
  ["10x", undefined],
  ["s", undefined],
  ["-1s", undefined],
  [-5, undefined],
  [1.5, undefined],
  [true, undefined],
  ["", undefined],
];
for (const [input, ms] of DURATIONS) {
  Deno.test(`parseDuration reads ${JSON.stringify(input)} as ${ms}`, () => {
    assert.equal(parseDuration(input), ms);
  });
}

const SIZES: [unknown, number | undefined][] = [
  ["8MiB", 8 * 1024 * 1024],
  ["512KiB", 512 * 1024],
  ["1MB", 1_000_000],
  ["1kb", 1000],
  ["2GiB", 2 * 1024 ** 3],
  ["4096", 4096],
  ["10B", 10],
  ["1.5KiB", 1536],
  [4096, 4096],
  ["8 MiB", 8 * 1024 * 1024],
  ["8M", undefined],
  ["MiB", undefined],
  ["-1", undefined],
  [-1, undefined],
  [0.5, undefined],
  [null, undefined],
];
for (const [input, bytes] of SIZES) {
  Deno.test(`parseSize reads ${JSON.stringify(input)} as ${bytes}`, () => {
    assert.equal(parseSize(input), bytes);
  });
}

Deno.test("parseAddress splits host:port, :port and [v6]:port", () => {
  assert.deepEqual(parseAddress(":1935"), { hostname: "0.0.0.0", port: 1935 });
  assert.deepEqual(parseAddress("127.0.0.1:0"), {
    hostname: "127.0.0.1",
    port: 0,
  });
  assert.deepEqual(parseAddress("localhost:8554"), {
    hostname: "localhost",
    port: 8554,
  });
  assert.deepEqual(parseAddress("[::1]:1935"), { hostname: "::1", port: 1935 });
  for (const bad of ["nope", "1935", "host:", ":65536", "a b:1", "::1:1935"]) {
    assert.throws(() => parseAddress(bad), RangeError, bad);
  }
});

Deno.test("parseConfig accepts booleans, numbers and ports written as strings", () => {
  const config = parseConfig({
    gopCache: "no",
    rtmp: "TRUE",
    rtmpAddress: 1936,
  });
  assert.equal(config.gopCache, false);
  assert.equal(config.rtmp, true);
  assert.equal(config.rtmpAddress, ":1936");
});

const ERRORS: { name: string; input: unknown; problems: string[] }[] = [
  {
    name: "an address without port",
    input: { rtmpAddress: "nope" },
    problems: ['Invalid config rtmpAddress "nope": expected host:port'],
  },
  {
    name: "a duration with an unknown unit",
    input: { readTimeout: "10x" },
    problems: [
      'Invalid config readTimeout "10x": expected a duration such as "10s", "500ms", "2m" or a number of milliseconds',
    ],
  },
  {
    name: "a size with a bit unit",
    input: { writeQueueSize: "8Mb/s" },
    problems: [
      'Invalid config writeQueueSize "8Mb/s": expected a size such as "8MiB", "512KiB", "1MB" or a number of bytes',
    ],
  },
  {
    name: "a chunk size out of range",
    input: { rtmpChunkSize: 64 },
    problems: [
      "Invalid config rtmpChunkSize 64: expected an integer from 128 to 65536",
    ],
  },
  {
    name: "a chunk size that is not whole",
    input: { rtmpChunkSize: "4096.5" },
    problems: [
      'Invalid config rtmpChunkSize "4096.5": expected an integer from 128 to 65536',
    ],
  },
  {
    name: "an unknown log level",
    input: { logLevel: "trace" },
    problems: [
      'Invalid config logLevel "trace": expected one of "error", "warn", "info", "debug"',
    ],
  },
  {
    name: "a word that is not a boolean",
    input: { gopCache: "maybe" },
    problems: ['Invalid config gopCache "maybe": expected true or false'],
  },
  {
    name: "an unknown key near a real one",
    input: { rtmpAdress: ":1935" },
    problems: [
      "Invalid config rtmpAdress: unknown key, did you mean rtmpAddress?",
    ],
  },
  {
    name: "an unknown key far from any",
    input: { colour: "blue" },
    problems: ["Invalid config colour: unknown key"],
  },
  {
    name: "an unknown key inside a path",
    input: {
      paths: { "live/cam1": { overridePublisher: true, colour: true } },
    },
    problems: ['Invalid config paths["live/cam1"].colour: unknown key'],
  },
  {
    name: "a wrong value inside a path",
    input: { paths: { cam: { overridePublisher: "sometimes" } } },
    problems: [
      'Invalid config paths.cam.overridePublisher "sometimes": expected "auto", true or false',
    ],
  },
  {
    name: "paths that are not a mapping",
    input: { paths: ["cam"] },
    problems: [
      'Invalid config paths ["cam"]: expected a mapping of path names to settings',
    ],
  },
  {
    name: "a path entry that is not a mapping",
    input: { paths: { cam: 3 } },
    problems: [
      "Invalid config paths.cam 3: expected a mapping of keys to values",
    ],
  },
  {
    name: "a file that is a list",
    input: [1, 2],
    problems: ["Invalid config: expected a mapping of keys to values"],
  },
];
for (const c of ERRORS) {
  Deno.test(`parseConfig reports ${c.name}`, () => {
    assert.deepEqual(problemsOf(c.input), c.problems);
  });
}

Deno.test("parseConfig reports every wrong field at once, one line each", () => {
  const problems = problemsOf({
    rtmpAddress: "nope",
    readTimeout: "soon",
    writeQueueSize: "big",
    extra: 1,
    another: 2,
    paths: { a: { overridePublisher: 7 } },
  });
  assert.equal(problems.length, 6);
  for (const line of problems) assert.doesNotMatch(line, /\n/);
  assert.ok(problems.some((p) => p.startsWith("Invalid config extra:")));
  assert.ok(problems.some((p) => p.startsWith("Invalid config another:")));
});

Deno.test("parseConfig shortens a long value in its message", () => {
  const [problem] = problemsOf({ rtmpAddress: "x".repeat(200) });
  assert.ok(problem!.length < 120, problem);
  assert.match(problem!, /\.\.\.: expected host:port$/);
});

Deno.test("parseConfig reads address lists and multicast ranges", () => {
  const c = parseConfig({
    rtspTunnelAddresses: ":8088, 127.0.0.1:8089",
    multicastIPRange: "239.255.1.7/24",
  });
  assert.deepEqual(c.rtspTunnelAddresses, [":8088", "127.0.0.1:8089"]);
  assert.deepEqual(
    parseConfig({ rtspTunnelAddresses: [8088] })
      .rtspTunnelAddresses,
    [":8088"],
  );
  assert.equal(c.multicastIPRange, "239.255.1.7/24");
  assert.deepEqual(parseMulticastRange("239.255.1.7/24"), {
    base: (239 * 2 ** 24) + (255 << 16) + (1 << 8),
    size: 256,
  });
  for (const bad of ["10.0.0.0/8", "224.1.0.0/33", "224.1.0/16", "0.0.0.0/0"]) {
    assert.equal(parseMulticastRange(bad), undefined, bad);
    assert.ok(problemsOf({ multicastIPRange: bad }).length === 1, bad);
  }
  assert.ok(problemsOf({ rtspTunnelAddresses: "8088:x" }).length === 1);
  assert.ok(problemsOf({ srtp: "maybe" }).length === 1);
});

Deno.test("parseConfig takes rtsps:// and rtmps:// sources and pushes with a path's tlsCA", () => {
  const config = parseConfig({
    paths: {
      a: { source: "rtsps://cam:322/live", tlsCA: "/etc/sluice/ca.pem" },
      b: { source: "rtmps://origin/live/b" },
      c: { push: ["rtsps://h:8322/c", "rtmps://h:1936/live/c"] },
    },
  });
  assert.equal(config.paths["a"]?.tlsCA, "/etc/sluice/ca.pem");
  assert.equal(config.paths["b"]?.source, "rtmps://origin/live/b");
  assert.deepEqual(config.paths["c"]?.push, [
    "rtsps://h:8322/c",
    "rtmps://h:1936/live/c",
  ]);
  assert.throws(
    () => parseConfig({ paths: { d: { push: ["https://h/d"] } } }),
    /expected an rtsp:\/\/, rtsps:\/\/, rtmp:\/\/ or rtmps:\/\/ URL/,
  );
});

Deno.test("parseConfig takes rtsph:// (RTSP tunnelled in HTTP) as a path source", () => {
  const c = parseConfig({
    paths: { cam: { source: "rtsph://user:pw@10.0.0.2:8080/stream1" } },
  });
  assert.equal(c.paths["cam"]?.source, "rtsph://user:pw@10.0.0.2:8080/stream1");
  assert.equal(
    problemsOf({ paths: { cam: { source: "http://10.0.0.2/x" } } }).length,
    1,
  );
});

Deno.test("parseConfig takes rtspsh:// (RTSP tunnelled in HTTPS) as a path source with tlsCA", () => {
  const c = parseConfig({
    paths: {
      cam: { source: "rtspsh://10.0.0.2:8322/stream1", tlsCA: "/ca.pem" },
    },
  });
  assert.equal(c.paths["cam"]?.source, "rtspsh://10.0.0.2:8322/stream1");
  assert.equal(c.paths["cam"]?.tlsCA, "/ca.pem");
  assert.equal(
    problemsOf({ paths: { cam: { source: "rtsphs://10.0.0.2/x" } } }).length,
    1,
  );
});

Deno.test("parseConfig reads the HLS keys, hlsVariant per path too", () => {
  const c = parseConfig({
    hlsVariant: "mpegts",
    hlsPartDuration: "500ms",
    hlsSegmentCount: "3",
    paths: { "live/ll": { hlsVariant: "lowLatency" } },
  });
  assert.equal(c.hlsVariant, "mpegts");
  assert.equal(c.hlsPartDuration, 500);
  assert.equal(c.hlsSegmentCount, 3);
  assert.equal(c.paths["live/ll"]?.hlsVariant, "lowLatency");
  assert.equal(problemsOf({ hlsVariant: "dash" }).length, 1);
  assert.equal(problemsOf({ hlsSegmentCount: 0 }).length, 1);
});
