/**
 * Writes a session description (RFC 8866 §5) with CRLF line ends, fields in
 * the order §5 gives: `v o s i u e p c b t r z k a`, then each `m=` section
 * as `m i c b k a`. Media attributes start with `a=rtpmap` and `a=fmtp` per
 * payload type in `formats` order, then `a=control`, `a=framerate`, the
 * direction and the other attributes. Kept lines (`other`) come
 * after `c=`, before `b=`.
 *
 * @module
 */
import type {
  Sdp,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpLine,
  SdpMedia,
} from "./types.ts";

/** The text of `sdp`; a value holding CR or LF (which would add lines) is a TypeError. */
export function stringifySdp(sdp: Sdp): string {
  const out: string[] = [];
  const add = (type: string, value: string) => {
    if (/[\r\n]/.test(value)) {
      throw new TypeError(
        `Cannot stringify SDP: ${type}= value ${
          JSON.stringify(value)
        } holds a line break`,
      );
    }
    out.push(`${type}=${value}`);
  };
  const o = sdp.origin;
  add("v", String(sdp.version));
  add(
    "o",
    `${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`
      .trimEnd(),
  );
  add("s", sdp.sessionName === "" ? " " : sdp.sessionName); // §5.3: "s= " when there is no name
  if (sdp.information !== undefined) add("i", sdp.information);
  if (sdp.connection !== undefined) add("c", connection(sdp.connection));
  // Kept lines go here, in their order: after the v, o, s, i, c lines they may
  // repeat, and before every t=, which an r= kept for lack of one would join.
  lines(sdp.other, add);
  bandwidths(sdp.bandwidths, add);
  const timing = sdp.timing.length === 0
    ? [{ start: "0", stop: "0", repeats: [] }]
    : sdp.timing;
  for (const t of timing) {
    add("t", `${t.start} ${t.stop}`);
    for (const r of t.repeats) add("r", r);
  }
  if (sdp.control !== undefined) add("a", `control:${sdp.control}`);
  if (sdp.range !== undefined) add("a", `range:${sdp.range}`);
  if (sdp.direction !== undefined) add("a", sdp.direction);
  attributes(sdp.attributes, add);
  for (const m of sdp.media) media(m, add);
  return out.join("\r\n") + "\r\n";
}

type Add = (type: string, value: string) => void;

function media(m: SdpMedia, add: Add): void {
  const port = m.portCount === undefined
    ? `${m.port}`
    : `${m.port}/${m.portCount}`;
  add("m", [m.type, port, m.protocol, ...m.formats].join(" "));
  if (m.information !== undefined) add("i", m.information);
  if (m.connection !== undefined) add("c", connection(m.connection));
  bandwidths(m.bandwidths, add);
  lines(m.other, add);
  const written = new Set<number>();
  const payloadType = (pt: number) => {
    if (written.has(pt)) return;
    written.add(pt);
    const rtpmap = m.rtpmap.get(pt);
    if (rtpmap !== undefined) {
      const channels = rtpmap.channels === undefined
        ? ""
        : `/${rtpmap.channels}`;
      add(
        "a",
        `rtpmap:${pt} ${rtpmap.encoding}/${rtpmap.clockRate}${channels}`,
      );
    }
    const fmtp = m.fmtp.get(pt);
    if (fmtp !== undefined) {
      add("a", fmtp.raw === "" ? `fmtp:${pt}` : `fmtp:${pt} ${fmtp.raw}`);
    }
  };
  for (const f of m.formats) {
    const pt = Number(f);
    if (/^\d{1,3}$/.test(f) && (m.rtpmap.has(pt) || m.fmtp.has(pt))) {
      payloadType(pt);
    }
  }
  for (const pt of m.rtpmap.keys()) payloadType(pt);
  for (const pt of m.fmtp.keys()) payloadType(pt);
  if (m.control !== undefined) add("a", `control:${m.control}`);
  if (m.framerate !== undefined) add("a", `framerate:${m.framerate}`);
  if (m.direction !== undefined) add("a", m.direction);
  attributes(m.attributes, add);
}

function connection(c: SdpConnection): string {
  let address = c.address;
  if (c.ttl !== undefined) address += `/${c.ttl}`;
  if (c.count !== undefined) address += `/${c.count}`;
  return `${c.netType} ${c.addrType} ${address}`.trimEnd();
}

function bandwidths(list: readonly SdpBandwidth[], add: Add): void {
  for (const b of list) add("b", `${b.type}:${b.value}`);
}

function attributes(list: readonly SdpAttribute[], add: Add): void {
  for (const a of list) {
    add("a", a.value === undefined ? a.name : `${a.name}:${a.value}`);
  }
}

function lines(list: readonly SdpLine[], add: Add): void {
  for (const l of list) add(l.type, l.value);
}
