/**
 * One push: a path's stream republished to another server, over RTSP
 * (ANNOUNCE and RECORD) or over RTMP (an FLV output whose reader is the RTMP
 * client's write queue).
 *
 * @module
 */

import { RtmpClient } from "../client/rtmp.ts";
import { RtspClient } from "../client/rtsp/client.ts";
import { FlvOutput, type FlvReader } from "../egress/flv_output.ts";
import type { Hub } from "../hub/hub.ts";
import type { Stream } from "../hub/stream.ts";
import {
  type Connected,
  DEFAULT_TIMEOUT_MS,
  type RelayHandle,
} from "./_relay.ts";

/** Options of {@link connectPush}. */
export interface PushOptions {
  /** Where the push reads its path's stream. */
  hub: Pick<Hub, "stream">;
  /** Every step of the connection must finish within this. @default {10000} */
  timeoutMs?: number;
  /** `rtsps://` and `rtmps://`: PEM certificates trusted besides the system's roots. */
  caCerts?: string[];
}

/**
 * Connects `relay` to the server at `url` (`rtmp[s]://` or else RTSP) and sends
 * its path's stream; resolves once the server takes it.
 */
export function connectPush(
  relay: RelayHandle,
  url: string,
  options: PushOptions,
): Promise<Connected> {
  return /^rtmps?:\/\//.test(url)
    ? pushRtmp(relay, url, options)
    : pushRtsp(relay, url, options);
}

function streamOf(r: RelayHandle, hub: PushOptions["hub"]): Stream {
  const stream = hub.stream(r.state.path);
  if (stream === undefined) throw new Error("the path has no stream");
  return stream;
}

async function pushRtsp(
  r: RelayHandle,
  url: string,
  o: PushOptions,
): Promise<Connected> {
  const stream = streamOf(r, o.hub);
  const client = await RtspClient.open(url, {
    transport: "automatic",
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    caCerts: o.caCerts,
  });
  const ended = new Promise<void>((resolve) => {
    r.closeCurrent = () => {
      client.close();
      resolve();
    };
  });
  try {
    await client.record(stream, { onEnd: () => r.closeCurrent?.() });
  } catch (e) {
    r.closeCurrent?.();
    throw e;
  }
  return { ended };
}

async function pushRtmp(
  r: RelayHandle,
  url: string,
  o: PushOptions,
): Promise<Connected> {
  const stream = streamOf(r, o.hub);
  const client = await RtmpClient.connect(url, {
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    caCerts: o.caCerts,
  });
  r.closeCurrent = () => client.close();
  await client.publish();
  // Every push with the same chunk size and stream id shares one output.
  const output = stream.output<FlvOutput>(
    `rtmp-push:${client.chunkSize}:${client.streamId}`,
    (cached) =>
      new FlvOutput(cached, {
        chunkSize: client.chunkSize,
        streamId: client.streamId,
        metadataCommand: "@setDataFrame",
      }),
  );
  const reader: FlvReader = {
    queue: client.queue,
    onEnd: () => r.closeCurrent?.(),
  };
  output.addReader(reader);
  const ended = new Promise<void>((resolve) => {
    r.closeCurrent = () => {
      client.close();
      output.removeReader(reader);
      stream.pruneOutputs();
      resolve();
    };
  });
  void (async () => {
    for await (const _ of client.messages()); // the server's acks and pings; ends when it goes
    r.closeCurrent?.();
  })();
  return { ended };
}
