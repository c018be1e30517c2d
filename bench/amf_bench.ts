// bench/amf_bench.ts — AMF0/AMF3 codec on the messages an RTMP server handles
// most: the publisher's connect command and its @setDataFrame onMetaData.
// MB/s = bytes in the bench name ÷ time per iteration.
import {
  decodeAmf0,
  decodeAmf3,
  ecmaArray,
  encodeAmf0,
  encodeAmf3,
} from "../lib/amf/mod.ts";
import { decodeCommand, statusInfo } from "../lib/rtmp/command.ts";

// What ffmpeg sends to publish (rtmpproto.c gen_connect) …
const connectValues = [
  "connect",
  1,
  {
    app: "live",
    type: "nonprivate",
    flashVer: "FMLE/3.0 (compatible; Lavf61.7.100)",
    tcUrl: "rtmp://127.0.0.1:1935/live",
  },
];
// … and the metadata its FLV muxer writes (flvenc.c write_metadata), here as OBS adds more
const metadataValues = [
  "@setDataFrame",
  "onMetaData",
  ecmaArray({
    duration: 0,
    width: 1920,
    height: 1080,
    videodatarate: 6000,
    framerate: 60,
    videocodecid: 7,
    audiodatarate: 160,
    audiosamplerate: 48000,
    audiosamplesize: 16,
    stereo: true,
    audiocodecid: 10,
    "2.1": false,
    "3.1": false,
    "4.0": false,
    "4.1": false,
    "5.1": false,
    "7.1": false,
    encoder: "obs-output module (libobs version 30.2.0)",
    filesize: 0,
  }),
];
// The server's answer to connect: _result with properties and an info object
const resultValues = [
  "_result",
  1,
  { fmsVer: "FMS/3,0,1,123", capabilities: 31 },
  statusInfo(
    "status",
    "NetConnection.Connect.Success",
    "Connection succeeded.",
    {
      objectEncoding: 0,
    },
  ),
];

const connect = encodeAmf0(...connectValues);
const metadata = encodeAmf0(...metadataValues);
const result = encodeAmf0(...resultValues);
const connectAmf3 = encodeAmf3(...connectValues);

{
  const group = "AMF0 decode";
  Deno.bench({
    group,
    name: `connect command (${connect.length} B)`,
    baseline: true,
  }, () => {
    decodeAmf0(connect);
  });
  Deno.bench(
    { group, name: `connect as RtmpCommand (${connect.length} B)` },
    () => {
      decodeCommand(connect, false);
    },
  );
  Deno.bench(
    { group, name: `@setDataFrame onMetaData (${metadata.length} B)` },
    () => {
      decodeAmf0(metadata);
    },
  );
}

{
  const group = "AMF0 encode";
  Deno.bench({
    group,
    name: `connect command (${connect.length} B)`,
    baseline: true,
  }, () => {
    encodeAmf0(...connectValues);
  });
  Deno.bench({ group, name: `connect _result (${result.length} B)` }, () => {
    encodeAmf0(...resultValues);
  });
  Deno.bench(
    { group, name: `@setDataFrame onMetaData (${metadata.length} B)` },
    () => {
      encodeAmf0(...metadataValues);
    },
  );
}

{
  const group = "AMF3";
  Deno.bench({
    group,
    name: `decode connect (${connectAmf3.length} B)`,
    baseline: true,
  }, () => {
    decodeAmf3(connectAmf3);
  });
  Deno.bench(
    { group, name: `encode connect (${connectAmf3.length} B)` },
    () => {
      encodeAmf3(...connectValues);
    },
  );
}
