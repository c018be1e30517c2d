/**
 * The shape every protocol stage shares: a synchronous core that pushes its
 * output into a {@link Sink}, and {@link StageStream}, the `TransformStream`
 * face of such a core.
 *
 * @module
 */

/** Where a stage core puts its output: a `TransformStreamDefaultController` fits. */
export interface Sink<T> {
  enqueue(chunk: T): void;
}

/** A synchronous stage: `push()` never awaits; `end()` rejects leftovers. */
export interface StageCore<I, O> {
  push(chunk: I, out: Sink<O>): void;
  end?(out: Sink<O>): void;
}

/** A `TransformStream` driven by a {@link StageCore}. */
export class StageStream<I, O> extends TransformStream<I, O> {
  constructor(core: StageCore<I, O>) {
    super({ // a start() here could not touch `this`: it runs inside super()
      transform: (chunk, controller) => core.push(chunk, controller),
      flush: (controller) => core.end?.(controller),
    });
  }
}
