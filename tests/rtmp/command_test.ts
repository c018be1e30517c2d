import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import { ProtocolError } from "../../lib/errors.ts";
import { type AmfObject, ecmaArray, isEcmaArray } from "../../lib/amf/mod.ts";
import {
  decodeCommand,
  decodeData,
  encodeCommand,
  encodeData,
  NET_STATUS,
  RTMP_COMMAND,
  RTMP_DATA,
  type RtmpCommand,
  statusInfo,
} from "../../lib/rtmp/command.ts";
import { checkStageContract, wholeInput } from "../_util/stage_contract.ts";
import { ascii, hex, toHex } from "../_util/bytes.ts";

/** Hex of a 16-bit-length UTF-8 (AMF0 §1.3), as member names are written. */
function utf(text: string): string {
  const b = ascii(text);
  return `${b.length.toString(16).padStart(4, "0")} ${toHex(b)}`;
}
/** Hex of an AMF0 string value (§2.4). */
function str(text: string): string {
  return `02 ${utf(text)}`;
}
/** Hex of an AMF0 number value (§2.2). */
function num(n: number): string {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n);
  return `00 ${toHex(b)}`;
}

// RTMP 1.0 §7.2.1.1 connect, as ffmpeg 7.1 (libavformat 61.7.100) publishes:
// rtmpproto.c gen_connect writes app, type "nonprivate", flashVer, tcUrl.
const FFMPEG_CONNECT = hex(`
  ${str("connect")} | ${num(1)} |
  03 | ${utf("app")} ${str("live")}
     | ${utf("type")} ${str("nonprivate")}
     | ${utf("flashVer")} ${str("FMLE/3.0 (compatible; Lavf61.7.100)")}
     | ${utf("tcUrl")} ${str("rtmp://127.0.0.1:1935/live")}
     | 0000 09
`);

// What ffmpeg's FLV muxer writes for a live output, sent with "@setDataFrame"
// in front (RTMP 1.0 §7.1.2 data message, FLV SCRIPTDATA): the ECMA count says
// 11 (4 video + 5 audio + duration and filesize) but 13 entries follow, as
// framerate and encoder are not counted and the count is never patched.
const FFMPEG_METADATA = hex(`
  ${str("@setDataFrame")} | ${str("onMetaData")} |
  08 0000000b
  | ${utf("duration")} ${num(0)}
  | ${utf("width")} ${num(1280)}
  | ${utf("height")} ${num(720)}
  | ${utf("videodatarate")} ${num(2500)}
  | ${utf("framerate")} ${num(30)}
  | ${utf("videocodecid")} ${num(7)}
  | ${utf("audiodatarate")} ${num(128)}
  | ${utf("audiosamplerate")} ${num(44100)}
  | ${utf("audiosamplesize")} ${num(16)}
  | ${utf("stereo")} 01 01
  | ${utf("audiocodecid")} ${num(10)}
  | ${utf("encoder")} ${str("Lavf61.7.100")}
  | ${utf("filesize")} ${num(0)}
  | 0000 09
`);

Deno.test("decodeCommand reads ffmpeg's connect", () => {
  assert.deepEqual(decodeCommand(FFMPEG_CONNECT, false), {
    name: "connect",
    transactionId: 1,
    commandObject: {
      app: "live",
      type: "nonprivate",
      flashVer: "FMLE/3.0 (compatible; Lavf61.7.100)",
      tcUrl: "rtmp://127.0.0.1:1935/live",
    },
    args: [],
  });
});

Deno.test("encodeCommand writes ffmpeg's connect byte for byte", () => {
  const cmd = decodeCommand(FFMPEG_CONNECT, false);
  assert.equal(toHex(encodeCommand(cmd)), toHex(FFMPEG_CONNECT));
});

Deno.test("decodeData reads ffmpeg's @setDataFrame onMetaData", () => {
  const [handler, name, meta] = decodeData(FFMPEG_METADATA, false);
  assert.equal(handler, RTMP_DATA.SET_DATA_FRAME);
  assert.equal(name, RTMP_DATA.ON_META_DATA);
  assert.ok(isEcmaArray(meta));
  assert.equal(Object.keys(meta).length, 13);
  assert.deepEqual(
    meta,
    ecmaArray({
      duration: 0,
      width: 1280,
      height: 720,
      videodatarate: 2500,
      framerate: 30,
      videocodecid: 7,
      audiodatarate: 128,
      audiosamplerate: 44100,
      audiosamplesize: 16,
      stereo: true,
      audiocodecid: 10,
      encoder: "Lavf61.7.100",
      filesize: 0,
    }),
  );
});

Deno.test("encodeData writes onMetaData back as an ECMA array", () => {
  const values = decodeData(FFMPEG_METADATA, false);
  const again = encodeData(...values);
  assert.equal(again[29], 0x08); // after "@setDataFrame" (16 bytes) and "onMetaData" (13)
  assert.deepEqual(decodeData(again, false), values);
});

// RTMP 1.0 §7.2.2.6 publish and the FMLE-style calls around it, as ffmpeg sends them
const PUBLISH_SEQUENCE: { wire: Uint8Array; cmd: RtmpCommand }[] = [
  {
    wire: hex(`${str("releaseStream")} ${num(2)} 05 ${str("cam1")}`),
    cmd: {
      name: RTMP_COMMAND.RELEASE_STREAM,
      transactionId: 2,
      commandObject: null,
      args: ["cam1"],
    },
  },
  {
    wire: hex(`${str("FCPublish")} ${num(3)} 05 ${str("cam1")}`),
    cmd: {
      name: RTMP_COMMAND.FC_PUBLISH,
      transactionId: 3,
      commandObject: null,
      args: ["cam1"],
    },
  },
  {
    wire: hex(`${str("createStream")} ${num(4)} 05`),
    cmd: {
      name: RTMP_COMMAND.CREATE_STREAM,
      transactionId: 4,
      commandObject: null,
      args: [],
    },
  },
  {
    wire: hex(`${str("publish")} ${num(5)} 05 ${str("cam1")} ${str("live")}`),
    cmd: {
      name: RTMP_COMMAND.PUBLISH,
      transactionId: 5,
      commandObject: null,
      args: ["cam1", "live"],
    },
  },
];

for (const { wire, cmd } of PUBLISH_SEQUENCE) {
  Deno.test(`decodeCommand reads ffmpeg's ${cmd.name} and encodeCommand writes it back`, () => {
    assert.deepEqual(decodeCommand(wire, false), cmd);
    assert.equal(toHex(encodeCommand(cmd)), toHex(wire));
  });
}

Deno.test("decodeCommand: publish without the type argument", () => {
  const cmd = decodeCommand(
    hex(`${str("publish")} ${num(5)} 05 ${str("cam1")}`),
    false,
  );
  assert.deepEqual(cmd.args, ["cam1"]);
});

Deno.test("decodeCommand: a command with nothing after its name", () => {
  assert.deepEqual(decodeCommand(hex(str("play")), false), {
    name: "play",
    transactionId: 0,
    commandObject: null,
    args: [],
  });
});

Deno.test("decodeCommand: transaction id without a command object", () => {
  assert.deepEqual(
    decodeCommand(hex(`${str("deleteStream")} ${num(6)}`), false),
    {
      name: "deleteStream",
      transactionId: 6,
      commandObject: null,
      args: [],
    },
  );
});

Deno.test("decodeCommand: no transaction id, the command object follows the name", () => {
  const cmd = decodeCommand(
    hex(`${str("onStatus")} 03 ${utf("code")} ${str("x")} 0000 09`),
    false,
  );
  assert.equal(cmd.transactionId, 0);
  assert.deepEqual(cmd.commandObject, { code: "x" });
});

Deno.test("decodeCommand: no transaction id and no command object, arguments right away", () => {
  const cmd = decodeCommand(hex(`${str("play")} ${str("cam1")}`), false);
  assert.deepEqual(cmd, {
    name: "play",
    transactionId: 0,
    commandObject: null,
    args: ["cam1"],
  });
});

Deno.test("decodeCommand: undefined in place of null (RTMP 1.0 §7.2.2.1 play)", () => {
  const cmd = decodeCommand(
    hex(`${str("play")} ${num(0)} 06 ${str("cam1")} ${num(-2000)}`),
    false,
  );
  assert.deepEqual(cmd, {
    name: "play",
    transactionId: 0,
    commandObject: undefined,
    args: ["cam1", -2000],
  });
});

Deno.test("decodeCommand reads an AMF3 command (type 17): format byte, then AMF0 with AMF3 values", () => {
  // 0x00 format byte; "connect"; 1; 0x11 then an AMF3 dynamic object { app: "live" }
  const wire = hex(
    `00 | ${str("connect")} | ${
      num(1)
    } | 11 0a 0b 01 07 617070 06 09 6c697665 01`,
  );
  assert.deepEqual(decodeCommand(wire, true), {
    name: "connect",
    transactionId: 1,
    commandObject: { app: "live" },
    args: [],
  });
});

Deno.test("decodeCommand takes a type-17 payload without its format byte as AMF0", () => {
  assert.equal(decodeCommand(hex(str("play")), true).name, "play");
});

Deno.test("decodeData reads an AMF3 data message (type 15) after its format byte", () => {
  assert.deepEqual(
    decodeData(hex(`00 ${str("onMetaData")} 11 09 01 03 61 04 01 01`), true),
    [
      "onMetaData",
      ecmaArray({ a: 1 }),
    ],
  );
});

Deno.test("decodeCommand rejects a payload whose first value is not a name", () => {
  for (const wire of [hex(""), hex(num(1)), hex("05"), hex("03 0000 09")]) {
    assert.throws(() => decodeCommand(wire, false), (e) => {
      assert.ok(e instanceof ProtocolError);
      assert.equal(e.protocol, "rtmp");
      assert.equal(e.code, "malformed");
      assert.match(e.message, /^Cannot decode command: /);
      return true;
    });
  }
});

Deno.test("decodeCommand passes AMF errors on", () => {
  assert.throws(
    () => decodeCommand(hex(`${str("publish")} 02 00ff 61`), false),
    {
      name: "ProtocolError",
      protocol: "amf",
      code: "truncated",
    },
  );
});

Deno.test("decodeCommand applies the AMF limits it is given", () => {
  assert.throws(() => decodeCommand(FFMPEG_CONNECT, false, { maxItems: 2 }), {
    name: "ProtocolError",
    code: "limit",
  });
});

Deno.test("statusInfo builds the onStatus info object", () => {
  const info = statusInfo(
    "status",
    NET_STATUS.PUBLISH_START,
    "Start publishing",
    { details: "cam1" },
  );
  assert.deepEqual(info, {
    level: "status",
    code: "NetStream.Publish.Start",
    description: "Start publishing",
    details: "cam1",
  });
  const wire = encodeCommand({
    name: RTMP_COMMAND.ON_STATUS,
    transactionId: 0,
    commandObject: null,
    args: [info],
  });
  assert.deepEqual(decodeCommand(wire, false).args, [info]);
});

Deno.test("statusInfo keeps a __proto__ key of extra as data", () => {
  const extra = JSON.parse('{"__proto__": {"polluted": true}}');
  const info = statusInfo(
    "error",
    NET_STATUS.CONNECT_REJECTED,
    "No",
    extra,
  ) as AmfObject;
  assert.ok(Object.hasOwn(info, "__proto__"));
  assert.equal((info as Record<string, unknown>).polluted, undefined);
});

Deno.test("NET_STATUS spells the codes players match on", () => {
  assert.equal(NET_STATUS.CONNECT_SUCCESS, "NetConnection.Connect.Success");
  assert.equal(NET_STATUS.CONNECT_REJECTED, "NetConnection.Connect.Rejected");
  assert.equal(NET_STATUS.PUBLISH_BAD_NAME, "NetStream.Publish.BadName");
  assert.equal(NET_STATUS.UNPUBLISH_SUCCESS, "NetStream.Unpublish.Success");
  assert.equal(NET_STATUS.PLAY_RESET, "NetStream.Play.Reset");
  assert.equal(NET_STATUS.PLAY_START, "NetStream.Play.Start");
  assert.equal(NET_STATUS.PLAY_STOP, "NetStream.Play.Stop");
  assert.equal(
    NET_STATUS.PLAY_STREAM_NOT_FOUND,
    "NetStream.Play.StreamNotFound",
  );
  assert.equal(
    NET_STATUS.PLAY_UNPUBLISH_NOTIFY,
    "NetStream.Play.UnpublishNotify",
  );
  assert.equal(NET_STATUS.PLAY_PUBLISH_NOTIFY, "NetStream.Play.PublishNotify");
  assert.equal(NET_STATUS.DATA_START, "NetStream.Data.Start");
  assert.equal(NET_STATUS.PAUSE_NOTIFY, "NetStream.Pause.Notify");
  assert.equal(NET_STATUS.UNPAUSE_NOTIFY, "NetStream.Unpause.Notify");
  for (const code of Object.values(NET_STATUS)) {
    assert.match(
      code,
      /^Net(Connection|Stream)\.([A-Z][A-Za-z]+\.)?[A-Z][A-Za-z]+$/,
    );
  }
});

const arbitraryCommand = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }),
  transactionId: fc.nat(),
  commandObject: fc.oneof(
    fc.constant(null),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.string(), {
      noNullPrototype: true,
    }),
  ),
  args: fc.array(
    fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null)),
    { maxLength: 4 },
  ),
}, { noNullPrototype: true });

Deno.test("encodeCommand → decodeCommand returns arbitrary commands", () => {
  fc.assert(
    fc.property(arbitraryCommand, fc.boolean(), (cmd, amf3) => {
      const wire = encodeCommand(cmd);
      const payload = amf3 ? concat([hex("00"), wire]) : wire;
      assert.deepEqual(decodeCommand(payload, amf3), cmd);
    }),
    { numRuns: 300 },
  );
});

/** encodeCommand writes an undefined command object as null (its documented choice). */
function nullCommandObject(cmds: RtmpCommand[]): RtmpCommand[] {
  return cmds.map((c) => ({ ...c, commandObject: c.commandObject ?? null }));
}

Deno.test("decodeCommand keeps the stage contract, encodeCommand returning what it reads", () => {
  const fixtures = [
    {
      name: "ffmpeg's connect",
      bytes: FFMPEG_CONNECT,
      expect: [decodeCommand(FFMPEG_CONNECT, false)],
    },
    {
      // no transaction id: encodeCommand adds 0 and a null command object
      name: "ffmpeg's @setDataFrame read as a command",
      bytes: FFMPEG_METADATA,
      roundTrip: "items" as const,
    },
    ...PUBLISH_SEQUENCE.map(({ wire, cmd }) => ({
      name: `ffmpeg's ${cmd.name}`,
      bytes: wire,
      expect: [cmd],
    })),
  ];
  const options = {
    encode: (cmds: RtmpCommand[]) => encodeCommand(cmds[0]!),
    normalizeRoundTrip: nullCommandObject,
    runs: 500,
  };
  checkStageContract(wholeInput((b) => [decodeCommand(b, false)]), {
    fixtures,
    ...options,
  });
  // Type 17: a format byte 0x00, then AMF0; encodeCommand writes type 20,
  // which a type-17 reader also takes.
  checkStageContract(wholeInput((b) => [decodeCommand(b, true)]), {
    fixtures: fixtures.map((f) => ({
      ...f,
      bytes: concat([hex("00"), f.bytes]),
      roundTrip: "items" as const,
    })),
    ...options,
  });
});
