// Registered files as their own type. A FixedFile names a slot in one ring's
// file table; operations that accept it set IOSQE_FIXED_FILE themselves. It is
// never derived from an fd number: fd numbers are reused, slots keep files.
//
// "Which file" is resolved here and only here: fileTarget() turns an fd or a
// FixedFile into a FileTarget (operation.ts), once, before anything is
// reserved. A FixedFile keeps its ring and slot in private fields, so a forged
// object (one made with Object.create(FixedFile.prototype), or with getters)
// is refused without running any of its code.
import { invalidArgType, invalidArgValue, UringError } from './errors';
import { validateInteger } from './validators';
import { FileTarget, slotTarget } from './operation';
import type { OpSpec } from './opcodes';

/** A slot in a ring's registered file table. */
export class FixedFile {
  readonly #owner: object;
  readonly #index: number;
  /** @internal */
  constructor(owner: object, index: number) {
    // A slot number goes into 32 bits of an SQE: never let it wrap.
    validateInteger(index, 'index', 0, 0x7fffffff);
    this.#owner = owner;
    this.#index = index;
  }
  /** The slot index in the ring's file table. */
  get index(): number {
    return this.#index;
  }
  /** @internal The ring whose table holds the slot. */
  get _owner(): object {
    return this.#owner;
  }
  /** @internal Whether `x` was made by this class (no code of `x` runs). */
  static _is(x: unknown): x is FixedFile {
    return typeof x === 'object' && x !== null && #index in x;
  }
  /**
   * @internal The slot, from the private field: a getter defined on an
   * instance (or a subclass) cannot answer for `index`.
   */
  static _slotOf(f: FixedFile): number {
    return f.#index;
  }
  /** @internal The owning ring, from the private field. */
  static _ownerOf(f: FixedFile): object {
    return f.#owner;
  }
  /** @internal */
  toString(): string {
    return `FixedFile(${this.#index})`;
  }
}

/** A plain file descriptor or a registered file. */
export type FileRef = number | FixedFile;

/** @internal Checks a FixedFile for use on `owner` and returns its slot. */
export function fixedSlot(file: unknown, owner: object, name: string): number {
  if (!FixedFile._is(file)) throw invalidArgType(name, 'an instance of FixedFile', file);
  if (FixedFile._ownerOf(file) !== owner) {
    throw new UringError('ERR_URING_FOREIGN_FILE', `The "${name}" FixedFile belongs to another ring`);
  }
  return FixedFile._slotOf(file);
}

/**
 * @internal Resolves a file argument of `spec` on `owner`'s ring: a plain fd
 * (an int32 >= 0) or a FixedFile of that ring (when the opcode accepts one).
 */
export function fileTarget(file: unknown, spec: OpSpec, owner: object, name = 'file'): FileTarget {
  if (typeof file === 'number') {
    if ((file | 0) !== file || file < 0) validateInteger(file, name, 0, 0x7fffffff);
    return file;
  }
  if (FixedFile._is(file)) {
    if (!spec.fixed) refuseFixed(file, name, spec.name);
    return slotTarget(fixedSlot(file, owner, name));
  }
  throw invalidArgType(name, 'of type number or an instance of FixedFile', file);
}

/** @internal Refuses a FixedFile for an operation the kernel does not allow on one. */
export function refuseFixed(value: unknown, name: string, op: string): void {
  if (FixedFile._is(value)) {
    throw invalidArgValue(name, value, `must be a plain file descriptor: ${op} cannot take a registered file`);
  }
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
}
