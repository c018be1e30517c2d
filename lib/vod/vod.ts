/**
 * Files on demand for the servers: a file of the VOD folder opened for one
 * reader becomes a private {@link Stream} (never in the hub) that its
 * {@link VodPlayer} feeds in real time, so RTSP, RTMP and HTTP-FLV serve it
 * with the outputs they use for live streams.
 *
 * @module
 */

import { Stream } from "../hub/stream.ts";
import type { Frame } from "../media/frame.ts";
import { type VodFile, VodFolder } from "./folder.ts";
import { VodHls } from "./hls.ts";
import { VodPlayer, type VodPlayerOptions } from "./player.ts";
import { VodWheel } from "./wheel.ts";

/** Options of {@link Vod.open}. */
export interface VodOpenOptions extends VodPlayerOptions {
  /** Where frames go; the private stream when left out. */
  onFrame?: (frame: Frame) => void;
  /** Called at the end of the file; the private stream ends when left out. */
  onEnd?: (vod: VodStream) => void;
}

/** The VOD folder and the one wheel that paces all its readers. */
export class Vod {
  readonly folder: VodFolder;
  readonly wheel: VodWheel;
  /** HLS of the folder's files (segments built on demand). */
  readonly hls: VodHls;
  /** Readers now. */
  readers = 0;

  constructor(root: string, wheel: VodWheel = new VodWheel()) {
    this.folder = new VodFolder(root);
    this.wheel = wheel;
    this.hls = new VodHls(this.folder);
  }

  /** Opens `name` (the path after `vod/`) for one reader; throws `VodError`. */
  async open(name: string, options: VodOpenOptions = {}): Promise<VodStream> {
    const file = await this.folder.open(name);
    this.readers++;
    return new VodStream(this, file, options);
  }

  /** Stops the wheel (every reader's flow) and lets go of HLS files. */
  close(): void {
    this.wheel.close();
    this.hls.close();
  }
}

/** One reader's file: its private stream and its player. */
export class VodStream {
  readonly file: VodFile;
  readonly player: VodPlayer;
  #stream: Stream;
  readonly #vod: Vod;
  #closed = false;

  constructor(vod: Vod, file: VodFile, options: VodOpenOptions) {
    this.#vod = vod;
    this.file = file;
    this.#stream = this.#fresh();
    const onEnd = options.onEnd ?? (() => this.#stream.end());
    this.player = new VodPlayer(
      file.source,
      {
        frame: options.onFrame ?? ((f) => this.#stream.writeFrame(f)),
        end: () => onEnd(this),
      },
      vod.wheel,
      options,
    );
  }

  #fresh(): Stream {
    const s = new Stream(`vod/${this.file.name}`, { gopCache: false });
    s.setTracks(this.file.source.tracks);
    return s;
  }

  /** The stream the reader's output hangs on. */
  get stream(): Stream {
    return this.#stream;
  }

  /**
   * A new stream for a fresh start (RTMP seek): the old one's outputs keep
   * their timeline; the caller moves its reader over.
   */
  restart(): Stream {
    this.#stream = this.#fresh();
    return this.#stream;
  }

  /** File duration, seconds. */
  get durationSeconds(): number {
    return this.file.source.durationSeconds;
  }

  /** Stops the player and gives the file back. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.player.close();
    this.file.release();
    this.#vod.readers--;
  }
}
