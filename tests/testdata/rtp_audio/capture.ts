/**
 * Re-makes the captures of this folder: ffmpeg sends `-f rtp` to a UDP
 * listener on 127.0.0.1 and every datagram is kept, RTP and RTCP.
 *
 *   deno run --allow-run --allow-net --allow-write tests/testdata/rtp_audio/capture.ts
 *
 * File format (`.rtp`): per datagram, 1 byte channel (0 RTP, 1 RTCP), 2 bytes
 * big-endian length, the datagram. The SDP ffmpeg wrote is kept beside it.
 */

const HERE = new URL(".", import.meta.url);

interface Capture {
  name: string;
  sampleRate: number;
  channels: number;
  codec: string[];
  extra?: string[];
  /** @default {0.3} */
  seconds?: number;
}

const CAPTURES: Capture[] = [
  // AAC-hbr, several AUs per packet (ffmpeg aggregates by default)
  {
    name: "aac_hbr_44k_stereo",
    sampleRate: 44100,
    channels: 2,
    codec: ["-c:a", "aac", "-b:a", "64k"],
    seconds: 1,
  },
  // AUs bigger than the packet: fragmented AUs (RFC 3640 §3.2.3)
  {
    name: "aac_hbr_fragmented",
    sampleRate: 48000,
    channels: 2,
    codec: ["-c:a", "aac", "-b:a", "320k"],
    extra: ["-pkt_size", "200"],
  },
  // MP4A-LATM, cpresent=0 with config= in the SDP
  {
    name: "aac_latm_44k_stereo",
    sampleRate: 44100,
    channels: 2,
    codec: ["-c:a", "aac", "-b:a", "64k"],
    extra: ["-rtpflags", "latm"],
  },
  {
    name: "opus_48k_stereo",
    sampleRate: 48000,
    channels: 2,
    codec: ["-c:a", "libopus", "-b:a", "32k"],
  },
  {
    name: "pcmu_8k_mono",
    sampleRate: 8000,
    channels: 1,
    codec: ["-c:a", "pcm_mulaw"],
  },
  {
    name: "pcma_8k_mono",
    sampleRate: 8000,
    channels: 1,
    codec: ["-c:a", "pcm_alaw"],
  },
];

function bindPair(): [Deno.DatagramConn, Deno.DatagramConn, number] {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + 2 * Math.floor(Math.random() * 10000);
    try {
      const rtp = Deno.listenDatagram({
        hostname: "127.0.0.1",
        port,
        transport: "udp",
      });
      try {
        const rtcp = Deno.listenDatagram({
          hostname: "127.0.0.1",
          port: port + 1,
          transport: "udp",
        });
        return [rtp, rtcp, port];
      } catch {
        rtp.close();
      }
    } catch {
      // taken: try another
    }
  }
  throw new Error("Cannot capture: no free UDP port pair");
}

async function capture(c: Capture): Promise<void> {
  const [rtp, rtcp, port] = bindPair();
  const datagrams: { channel: number; data: Uint8Array }[] = [];
  const receive = async (conn: Deno.DatagramConn, channel: number) => {
    try {
      for await (const [data] of conn) datagrams.push({ channel, data });
    } catch {
      // closed
    }
  };
  const loops = [receive(rtp, 0), receive(rtcp, 1)];
  const sdp = new URL(`${c.name}.sdp`, HERE);
  const args = [
    "-hide_banner",
    "-loglevel",
    "error",
    "-re",
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=440:sample_rate=${c.sampleRate}`,
    "-t",
    String(c.seconds ?? 0.3),
    "-ac",
    String(c.channels),
    ...c.codec,
    "-payload_type",
    "97",
    "-ssrc",
    "305419896",
    ...(c.extra ?? []),
    "-sdp_file",
    sdp.pathname,
    "-f",
    "rtp",
    `rtp://127.0.0.1:${port}?rtcpport=${port + 1}`,
  ];
  const status = await new Deno.Command("ffmpeg", { args, stdout: "null" })
    .output();
  if (!status.success) throw new Error(new TextDecoder().decode(status.stderr));
  await new Promise((r) => setTimeout(r, 200));
  rtp.close();
  rtcp.close();
  await Promise.all(loops);
  let size = 0;
  for (const d of datagrams) size += 3 + d.data.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const d of datagrams) {
    out[at] = d.channel;
    out[at + 1] = d.data.length >> 8;
    out[at + 2] = d.data.length & 0xff;
    out.set(d.data, at + 3);
    at += 3 + d.data.length;
  }
  await Deno.writeFile(new URL(`${c.name}.rtp`, HERE), out);
  console.log(`${c.name}: ${datagrams.length} datagrams, ${size} bytes`);
}

for (const c of CAPTURES) await capture(c);
