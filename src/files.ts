// Registered files as their own type. A FixedFile names a slot in one ring's
// file table; operations that accept it set IOSQE_FIXED_FILE themselves. It is
// never derived from an fd number: fd numbers are reused, slots keep files.
import { invalidArgType, invalidArgValue, UringError } from './errors';
import { validateInteger } from './validators';

/** A slot in a ring's registered file table. */
export class FixedFile {
  /** @internal */
  readonly _owner: object;
  /** The slot index in the ring's file table. */
  readonly index: number;
  /** @internal */
  constructor(owner: object, index: number) {
    // A slot number goes into 32 bits of an SQE: never let it wrap.
    validateInteger(index, 'index', 0, 0x7fffffff);
    this._owner = owner;
    this.index = index;
  }
  /** @internal */
  toString(): string {
    return `FixedFile(${this.index})`;
  }
}

/** A plain file descriptor or a registered file. */
export type FileRef = number | FixedFile;

/** @internal Checks a FixedFile for use on `owner` and returns its slot. */
export function fixedSlot(file: FixedFile, owner: object, name: string): number {
  if (file._owner !== owner) {
    throw new UringError('ERR_URING_FOREIGN_FILE', `The "${name}" FixedFile belongs to another ring`);
  }
  const i = file.index;
  // A forged or mutated handle must not reach the SQE: NaN would become slot 0.
  if ((i | 0) !== i || i < 0) validateInteger(i, `${name}.index`, 0, 0x7fffffff);
  return i;
}

/** @internal Refuses a FixedFile for an operation the kernel does not allow on one. */
export function refuseFixed(value: unknown, name: string, op: string): void {
  if (value instanceof FixedFile) {
    throw invalidArgValue(name, value, `must be a plain file descriptor: ${op} cannot take a registered file`);
  }
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
}
