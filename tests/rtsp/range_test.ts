/** The Range header: npt (RFC 2326 §3.6) and absolute time (§3.7). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RtspError } from "../../lib/rtsp/error.ts";
import {
  type ClockRange,
  type NptRange,
  parsePlayRange,
  parseRange,
  stringifyRange,
} from "../../lib/rtsp/headers/range.ts";

const RANGES: [string, NptRange][] = [
  // RFC 2326 §3.6, §12.29
  ["npt=0-", { unit: "npt", start: 0 }],
  ["npt=0.000-", { unit: "npt", start: 0 }],
  ["npt=now-", { unit: "npt", start: "now" }],
  ["npt=10-20.5", { unit: "npt", start: 10, end: 20.5 }],
  ["npt=0:01:02.5-", { unit: "npt", start: 62.5 }],
  ["npt=1:00:00-1:30:00", { unit: "npt", start: 3600, end: 5400 }],
  ["npt=-30", { unit: "npt", end: 30 }],
  ["npt = 5 - ", { unit: "npt", start: 5 }],
  ["NPT=0.000000-", { unit: "npt", start: 0 }], // Axis writes six decimals
  ["npt=0-;time=19970123T143720Z", {
    unit: "npt",
    start: 0,
    time: "19970123T143720Z",
  }],
];
for (const [value, range] of RANGES) {
  Deno.test(`parseRange reads ${JSON.stringify(value)}`, () => {
    assert.deepEqual(parseRange(value), range);
    assert.deepEqual(parseRange(stringifyRange(range)), range);
  });
}

Deno.test("stringifyRange writes seconds with millisecond digits", () => {
  assert.equal(stringifyRange({ unit: "npt", start: 0 }), "npt=0.000-");
  assert.equal(stringifyRange({ unit: "npt", start: "now" }), "npt=now-");
  assert.equal(
    stringifyRange({ unit: "npt", start: 12.5, end: 30 }),
    "npt=12.500-30.000",
  );
  assert.equal(stringifyRange({ unit: "npt", start: 0.0001 }), "npt=0.0001-");
  assert.throws(() => stringifyRange({ unit: "npt", start: -1 }), RangeError);
});

const BAD_RANGES: [string, string, "unsupported" | "malformed"][] = [
  // CVE-2020-24027: live555 overflowed a buffer reading clock= times; refused unread
  [
    "clock= absolute time",
    "clock=19961108T142300Z-19961108T143520Z",
    "unsupported",
  ],
  ["an overlong clock= time", `clock=${"9".repeat(200)}Z-`, "unsupported"],
  ["SMPTE", "smpte=10:07:00-10:07:33:05.01", "unsupported"],
  ["SMPTE-25", "smpte-25=10:07:00-", "unsupported"],
  ["an unknown unit", "bytes=0-100", "unsupported"],
  ["an empty value", "", "unsupported"],
  ["npt without times", "npt=", "malformed"],
  ["npt=-", "npt=-", "malformed"],
  ["end before start", "npt=20-10", "malformed"],
  ["letters", "npt=abc-", "malformed"],
  ["three times", "npt=1-2-3", "malformed"],
  ["61 minutes", "npt=0:61:00-", "malformed"],
  ["now as end", "npt=0-now", "malformed"],
  ["a negative start", "npt=--5", "malformed"],
  ["an overlong number", `npt=${"1".repeat(40)}-`, "malformed"],
];
for (const [name, value, code] of BAD_RANGES) {
  Deno.test(`parseRange refuses ${name} with 457`, () => {
    assert.throws(() => parseRange(value), {
      name: "RtspError",
      code,
      status: 457,
    });
  });
}

const CLOCK_RANGES: [string, ClockRange][] = [
  // RFC 2326 §3.7, §12.29
  ["clock=19961108T142300Z-19961108T143520Z", {
    unit: "clock",
    startMs: Date.UTC(1996, 10, 8, 14, 23, 0),
    endMs: Date.UTC(1996, 10, 8, 14, 35, 20),
  }],
  ["clock=20261204T101500Z-", {
    unit: "clock",
    startMs: Date.UTC(2026, 11, 4, 10, 15, 0),
  }],
  ["clock=19961108T143720.25Z-", {
    unit: "clock",
    startMs: Date.UTC(1996, 10, 8, 14, 37, 20, 250),
  }],
  ["CLOCK = 20261204t101500.000000001z - ", {
    unit: "clock",
    startMs: Date.UTC(2026, 11, 4, 10, 15, 0) + 1e-6,
  }],
  // RFC 7826 §4.4.3: up to a time
  ["clock=-20261204T101600Z", {
    unit: "clock",
    endMs: Date.UTC(2026, 11, 4, 10, 16, 0),
  }],
  ["clock=20261204T101500Z-;time=20261204T101400Z", {
    unit: "clock",
    startMs: Date.UTC(2026, 11, 4, 10, 15, 0),
    time: "20261204T101400Z",
  }],
];
for (const [value, range] of CLOCK_RANGES) {
  Deno.test(`parsePlayRange reads ${JSON.stringify(value)}`, () => {
    assert.deepEqual(parsePlayRange(value), range);
    assert.deepEqual(parsePlayRange(stringifyRange(range)), range);
  });
}

Deno.test("parsePlayRange reads npt as parseRange does", () => {
  for (const [value, range] of RANGES) {
    assert.deepEqual(parsePlayRange(value), range);
  }
});

Deno.test("stringifyRange writes clock times with millisecond digits, finer only when needed", () => {
  const t = Date.UTC(2026, 11, 4, 10, 15, 0);
  assert.equal(
    stringifyRange({ unit: "clock", startMs: t }),
    "clock=20261204T101500Z-",
  );
  assert.equal(
    stringifyRange({ unit: "clock", startMs: t + 250, endMs: t + 60_000 }),
    "clock=20261204T101500.250Z-20261204T101600Z",
  );
  assert.equal(
    stringifyRange({ unit: "clock", startMs: t + 0.5 }),
    "clock=20261204T101500.0005Z-",
  );
  assert.throws(
    () => stringifyRange({ unit: "clock", startMs: NaN }),
    RangeError,
  );
});

const BAD_CLOCK_RANGES: [string, string][] = [
  ["a month 13", "clock=20261304T101500Z-"],
  ["February 30", "clock=20260230T101500Z-"],
  ["hour 24", "clock=20261204T241500Z-"],
  ["second 60", "clock=20261204T101560Z-"],
  ["no Z", "clock=20261204T101500-"],
  ["no T", "clock=20261204101500Z-"],
  ["a short date", "clock=2026124T101500Z-"],
  ["ten fraction digits", "clock=20261204T101500.1234567890Z-"],
  ["an overlong time", `clock=${"9".repeat(200)}Z-`],
  ["end before start", "clock=20261204T101600Z-20261204T101500Z"],
  ["no times", "clock=-"],
  ["a year before 1900", "clock=18991231T235959Z-"],
  ["npt time in clock", "clock=10-20"],
];
for (const [name, value] of BAD_CLOCK_RANGES) {
  Deno.test(`parsePlayRange refuses ${name} with 457`, () => {
    assert.throws(() => parsePlayRange(value), {
      name: "RtspError",
      status: 457,
    });
  });
}

/**
 * Random text and strings of Range pieces: `parse` gives a range that reads
 * back from its own stringified form, or a 457 RtspError.
 */
function fuzzRange(
  parse: (value: string) => NptRange | ClockRange,
  pieces: string[],
): void {
  const input = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(fc.constantFrom(...pieces), { maxLength: 20 }).map((p) =>
      p.join("")
    ),
  );
  fc.assert(
    fc.property(input, (value) => {
      try {
        const range = parse(value);
        assert.deepEqual(parse(stringifyRange(range)), range);
      } catch (e) {
        if (!(e instanceof RtspError) || e.status !== 457) throw e;
      }
    }),
    { numRuns: 3000 },
  );
}

const RANGE_PIECES = ["npt", "clock", "smpte", "=", "-", ":", ".", ";", " "];

Deno.test("parsePlayRange gives a range or an RtspError for random input", () => {
  fuzzRange(parsePlayRange, [
    ...RANGE_PIECES,
    ...["T", "Z", "time", "2026", "12", "04", "31", "101500", "235959", "0"],
  ]);
});

Deno.test("parsePlayRange reads back every clock time it writes", () => {
  const ms = fc.integer({
    min: Date.UTC(1900, 0, 1),
    max: Date.UTC(9999, 11, 31, 23, 59, 59),
  });
  fc.assert(
    fc.property(ms, fc.option(ms), (a, b) => {
      const range: ClockRange = { unit: "clock", startMs: a };
      if (b !== null && b >= a) range.endMs = b;
      assert.deepEqual(parsePlayRange(stringifyRange(range)), range);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseRange gives a range or an RtspError for random input", () => {
  fuzzRange(parseRange, [
    ...RANGE_PIECES,
    ...["time", "now", "0", "59", "60", "12"],
  ]);
});
