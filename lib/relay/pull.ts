/**
 * One pull: a source read over RTSP (UDP first, TCP when no RTP arrives; TLS
 * and HTTP(S) tunnels by the URL's scheme) or
 * RTMP, and published on the relay's path.
 *
 * @module
 */

import { RtmpClient } from "../client/rtmp.ts";
import { RtspClient, type RtspTransportChoice } from "../client/rtsp/client.ts";
import type { Hub, Publisher } from "../hub/hub.ts";
import { RtmpInput } from "../ingest/rtmp_input.ts";
import type { Logger } from "../log.ts";
import {
  type Connected,
  DEFAULT_TIMEOUT_MS,
  redact,
  type RelayHandle,
} from "./_relay.ts";

/** Options of {@link connectPull}. */
export interface PullOptions {
  /** Where the pull publishes. */
  hub: Pick<Hub, "publish">;
  /** Where "pulling" and the switch to TCP are logged. */
  log: Logger;
  /** Every step of the connection must finish within this. @default {10000} */
  timeoutMs?: number;
  /** How an RTSP source sends its media. @default {"automatic"} */
  rtspTransport?: RtspTransportChoice;
  /** `rtsps://` and `rtmps://`: PEM certificates trusted besides the system's roots. */
  caCerts?: string[];
}

/**
 * Connects `relay` to the source at `url` (`rtmp[s]://` or else RTSP) and feeds
 * its path's publisher; resolves once media flows.
 */
export function connectPull(
  relay: RelayHandle,
  url: string,
  options: PullOptions,
): Promise<Connected> {
  return /^rtmps?:\/\//.test(url)
    ? pullRtmp(relay, url, options)
    : pullRtsp(relay, url, options);
}

/** The path's publisher for a pull; a takeover by a real publisher stops the relay's turn. */
function publisher(r: RelayHandle, hub: PullOptions["hub"]): Publisher {
  return hub.publish(r.state.path, {
    overridePublisher: true,
    onTakenOver: () => r.closeCurrent?.(),
    session: {
      id: `${r.state.kind}:${r.state.path}`,
      protocol: "relay",
      remoteAddress: r.state.url,
      query: "",
    },
  });
}

async function pullRtsp(
  r: RelayHandle,
  url: string,
  o: PullOptions,
): Promise<Connected> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let transport = o.rtspTransport ?? "automatic";
  for (;;) {
    const client = await RtspClient.open(url, {
      transport,
      timeoutMs,
      caCerts: o.caCerts,
    });
    try {
      return await playInto(r, client, o);
    } catch (e) {
      // UDP blocked: no RTP within a few seconds means TCP, on a new connection
      // (some cameras need DESCRIBE again before switching transport).
      if (transport === "automatic" && client.transport === "udp") {
        o.log.info("no RTP over UDP: switching to TCP", {
          path: r.state.path,
        });
        transport = "tcp";
        continue;
      }
      throw e;
    }
  }
}

/**
 * DESCRIBE, SETUP and PLAY on an open client, publishing on the relay's
 * path; resolves once media flows. On failure the client is closed.
 */
export async function playInto(
  r: RelayHandle,
  client: RtspClient,
  o: Pick<PullOptions, "hub" | "log">,
): Promise<Connected> {
  let pub: Publisher | undefined;
  const ended = new Promise<void>((resolve) => {
    r.closeCurrent = () => {
      client.close();
      pub?.close();
      resolve();
    };
  });
  try {
    const description = await client.describe();
    pub = publisher(r, o.hub);
    await client.play(description, pub, {
      onEnd: (e) => {
        pub?.close();
        r.closeCurrent?.();
        if (e) r.state.lastError = redact(e.message);
      },
    });
    o.log.info("pulling", {
      path: r.state.path,
      transport: client.transport,
    });
    return { ended };
  } catch (e) {
    r.closeCurrent?.();
    throw e;
  }
}

async function pullRtmp(
  r: RelayHandle,
  url: string,
  o: PullOptions,
): Promise<Connected> {
  const client = await RtmpClient.connect(url, {
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    caCerts: o.caCerts,
  });
  r.closeCurrent = () => client.close();
  await client.play();
  const pub = publisher(r, o.hub);
  r.closeCurrent = () => {
    client.close();
    pub.close();
  };
  const ingest = new RtmpInput(pub);
  const ended = (async () => {
    for await (const m of client.messages()) ingest.push(m);
  })().finally(() => pub.close());
  return { ended };
}
