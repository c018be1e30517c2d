/**
 * The readers of an output, walked once per packet.
 *
 * @module
 */

/**
 * A set of readers kept as an array that is replaced, never changed, when a
 * reader comes or goes. An output hands every packet to every reader: with
 * a thousand readers and a few hundred packets a second, walking a `Set`
 * made an iterator result per reader per packet, a third of an RTSP
 * server's garbage. A walk over {@link list} sees the readers of the moment
 * it began, whoever joins or leaves meanwhile.
 */
export class ReaderList<T> {
  #list: readonly T[] = [];

  /** The readers now, oldest first; the array itself never changes. */
  get list(): readonly T[] {
    return this.#list;
  }

  get size(): number {
    return this.#list.length;
  }

  add(reader: T): void {
    if (!this.#list.includes(reader)) this.#list = [...this.#list, reader];
  }

  delete(reader: T): void {
    const i = this.#list.indexOf(reader);
    if (i < 0) return;
    this.#list = this.#list.toSpliced(i, 1);
  }

  /** Takes every reader out; returns them. */
  clear(): readonly T[] {
    const all = this.#list;
    this.#list = [];
    return all;
  }
}
