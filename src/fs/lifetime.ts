// What an open FileHandle owns, and the three ways it is given back:
// - close(): the handle empties its registered slot and closes its fd;
// - garbage collection of a handle never closed: the fd is closed and the
//   slot emptied, with the warnings Node gives for its own FileHandles
//   ("Closing file descriptor N on garbage collection", then DEP0137 once);
// - the end of the thread (a worker that exits or is terminated): no
//   JavaScript runs then, so the fd is held by a native guard that closes it
//   when the environment is torn down; the slot goes with the thread's ring.
import * as fs from 'node:fs';
import type { Engine } from './backend';

/** The resources of one open FileHandle; held by the handle and by the GC registry, never pointing back. */
export class Owned {
  constructor(
    readonly engine: Engine,
    /** The native guard of the fd (native.ts guardFd). */
    readonly guard: object,
    readonly fd: number,
    /** The registered slot holding the same file, or -1. */
    public slot: number,
  ) {}

  /** Empties and frees the slot (synchronous register-update); safe on a closed ring. */
  dropSlot(): void {
    const slot = this.slot;
    if (slot < 0) return;
    this.slot = -1;
    try {
      this.engine.slots.set(slot, -1);
      this.engine.slots.give(slot);
    } catch {
      // The ring is closed: its table went with it.
    }
  }

  /** Takes the fd back from the guard: the caller closes it. -1 when it was taken already. */
  takeFd(): number {
    return this.engine.ring._n.unguardFd(this.guard);
  }
}

let deprecationShown = false;

const registry = new FinalizationRegistry<Owned>((o) => {
  const fd = o.takeFd();
  if (fd < 0) return;
  o.dropSlot();
  fs.close(fd, () => {});
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`);
  if (!deprecationShown) {
    deprecationShown = true;
    process.emitWarning('Closing a FileHandle object on garbage collection is deprecated. ' +
      'Please close FileHandle objects explicitly using FileHandle.prototype.close(). ' +
      'In the future, an error will be thrown if a file descriptor is closed during garbage collection.',
    'DeprecationWarning', 'DEP0137');
  }
});

/**
 * Takes ownership of `fd` for `handle`: guards it, puts the same file in a
 * free registered slot when one is left, and closes both if `handle` is
 * collected unclosed.
 */
export function own(engine: Engine, fd: number, handle: object): Owned {
  const guard = engine.ring._n.guardFd(fd);
  let slot = engine.slots.take();
  if (slot >= 0 && engine.slots.set(slot, fd) !== 0) {
    engine.slots.give(slot);
    slot = -1;
  }
  const o = new Owned(engine, guard, fd, slot);
  registry.register(handle, o, o);
  return o;
}

/** close(): the handle gives its resources back itself; returns the fd to close (-1 if gone). */
export function disown(o: Owned): number {
  registry.unregister(o);
  o.dropSlot();
  return o.takeFd();
}
