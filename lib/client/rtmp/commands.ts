/**
 * The RTMP client's commands: transactions answered by `_result` or
 * `_error`, `onStatus` codes waited for, and the error a refusal becomes.
 * What the commands mean (connect, play, publish) is the client's business.
 *
 * @module
 */

import { decodeCommand, type RtmpCommand } from "../../rtmp/command.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../rtmp/message.ts";
import { commandMessage, infoOf } from "../../rtmp/status.ts";
import { withTimeout } from "../_timeout.ts";

/** A server's `_error` answer or error `onStatus`. */
export class RtmpStatusError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = "RtmpStatusError";
    this.code = code;
  }
}

interface Pending {
  resolve(cmd: RtmpCommand): void;
  reject(e: Error): void;
}

/** Commands sent by one RTMP client connection and the answers awaited. */
export class RtmpCommands {
  readonly #send: (message: RtmpMessage) => void;
  readonly #timeoutMs: number;
  readonly #pending = new Map<number, Pending>();
  #statusWaiters: ((info: Record<string, unknown> | Error) => void)[] = [];
  #nextTxn = 1;
  /** Statuses received (codes), oldest first. */
  readonly statuses: string[] = [];

  /** `send` queues a message toward the server; every answer is awaited at most `timeoutMs`. */
  constructor(send: (message: RtmpMessage) => void, timeoutMs: number) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
  }

  /** A transaction id for a command whose answer nobody waits for (`releaseStream`, `FCPublish`). */
  nextTransaction(): number {
    return this.#nextTxn++;
  }

  /** Sends a command on stream 0 and waits for its `_result` or `_error`. */
  call(
    name: string,
    commandObject: unknown,
    ...args: unknown[]
  ): Promise<RtmpCommand> {
    const txn = this.#nextTxn++;
    const reply = new Promise<RtmpCommand>((resolve, reject) =>
      this.#pending.set(txn, { resolve, reject })
    );
    this.invoke(name, 0, txn, commandObject, ...args);
    return withTimeout(reply, this.#timeoutMs, name);
  }

  /** Sends a command without waiting for anything. */
  invoke(
    name: string,
    streamId: number,
    transactionId: number,
    commandObject: unknown,
    ...args: unknown[]
  ): void {
    this.#send(
      commandMessage(streamId, { name, transactionId, commandObject, args }),
    );
  }

  /** `createStream`: resolves with the new message stream's id. */
  async createStream(): Promise<number> {
    const reply = await this.call("createStream", null);
    const id = reply.args[0];
    if (reply.name !== "_result" || typeof id !== "number") {
      throw statusError("createStream", reply);
    }
    return id;
  }

  /** Resolves when a status matching `ok` arrives; rejects on an error-level status. */
  waitStatus(ok: (code: string) => boolean): Promise<void> {
    const waiting = new Promise<void>((resolve, reject) => {
      const w = (info: Record<string, unknown> | Error) => {
        if (info instanceof Error) reject(info);
        else if (ok(String(info.code))) resolve();
        else if (info.level === "error") {
          const code = String(info.code);
          reject(
            new RtmpStatusError(
              `Server answered ${code}: ${String(info.description ?? "")}`,
              code,
            ),
          );
        } else return;
        this.#statusWaiters = this.#statusWaiters.filter((x) => x !== w);
      };
      this.#statusWaiters.push(w);
    });
    return withTimeout(waiting, this.#timeoutMs, "status");
  }

  /** A command message from the server: an `onStatus`, or the answer to a call. */
  handle(m: RtmpMessage): void {
    const cmd = decodeCommand(
      m.payload,
      m.typeId === MESSAGE_TYPE.COMMAND_AMF3,
    );
    if (cmd.name === "onStatus") {
      const info = infoOf(cmd);
      this.statuses.push(String(info.code));
      for (const w of this.#statusWaiters) w(info);
      return;
    }
    const p = this.#pending.get(cmd.transactionId);
    if (
      p !== undefined && (cmd.name === "_result" || cmd.name === "_error")
    ) {
      this.#pending.delete(cmd.transactionId);
      p.resolve(cmd);
    }
  }

  /** The connection ended: every call and status waited for fails with `reason`. */
  fail(reason: Error): void {
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
    for (const w of this.#statusWaiters) w(reason);
  }
}

/** The error a refused command becomes: "Cannot connect: server answered NetConnection.Connect.Rejected". */
export function statusError(step: string, reply: RtmpCommand): RtmpStatusError {
  const code = String(infoOf(reply).code ?? reply.name);
  return new RtmpStatusError(`Cannot ${step}: server answered ${code}`, code);
}
