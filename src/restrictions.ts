// A sandbox for a ring (IORING_REGISTER_RESTRICTIONS): the ring is created
// disabled, told which opcodes, register calls and SQE flags it may use, and
// only then enabled. From then on the kernel refuses anything else: a
// disallowed operation completes with -EACCES, a disallowed register call
// fails with EACCES. Restrictions cannot be changed or lifted.
import { Op, OpName, Register, IOSQE_FIXED_FILE, IOSQE_IO_DRAIN, IOSQE_IO_LINK, IOSQE_IO_HARDLINK,
  IOSQE_ASYNC, IOSQE_BUFFER_SELECT, IOSQE_CQE_SKIP_SUCCESS } from './constants';
import { OPS, OpKey } from './opcodes';
import { invalidArgType, invalidArgValue } from './errors';
import { validateObject } from './validators';

/** Names of SQE flags a sandbox can allow or require. */
export type SqeFlagName = 'fixedFile' | 'drain' | 'link' | 'hardlink' | 'async' | 'bufferSelect' | 'skipSuccess';

const SQE_FLAGS: Record<SqeFlagName, number> = {
  fixedFile: IOSQE_FIXED_FILE, drain: IOSQE_IO_DRAIN, link: IOSQE_IO_LINK, hardlink: IOSQE_IO_HARDLINK,
  async: IOSQE_ASYNC, bufferSelect: IOSQE_BUFFER_SELECT, skipSuccess: IOSQE_CQE_SKIP_SUCCESS,
};

/** What a sandboxed ring may do. Everything not listed is refused by the kernel. */
export interface Restrictions {
  /**
   * Allowed operations: Ring method names as in the opcode table ('read',
   * 'openat', 'linkTimeout'), kernel names ('READ', 'OPENAT') or opcode
   * numbers. ASYNC_CANCEL is always allowed: close(), destroy() and
   * AbortSignals need it, and it only reaches this ring's own requests.
   */
  ops: readonly (OpKey | OpName | number)[];
  /** Allowed io_uring_register calls ('REGISTER_FILES', ...), by name or number. Default: none. */
  register?: readonly (keyof typeof Register | number)[];
  /**
   * SQE flags: `allowed` (default: all of them, since flags grant no access by
   * themselves) and `required` on every request (default: none).
   */
  sqeFlags?: { allowed?: readonly SqeFlagName[]; required?: readonly SqeFlagName[] };
}

// struct io_uring_restriction { u16 opcode; u8 value; u8 resv; u32 resv2[3]; }
const RESTRICTION_REGISTER_OP = 0;
const RESTRICTION_SQE_OP = 1;
const RESTRICTION_SQE_FLAGS_ALLOWED = 2;
const RESTRICTION_SQE_FLAGS_REQUIRED = 3;

function opNumber(v: unknown, name: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) return v;
  if (typeof v === 'string') {
    if (Object.prototype.hasOwnProperty.call(OPS, v)) return OPS[v as OpKey].op;
    if (Object.prototype.hasOwnProperty.call(Op, v)) return Op[v as OpName];
  }
  throw invalidArgValue(name, v, 'must be an operation name or an opcode from 0 to 255');
}

function registerNumber(v: unknown, name: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 256) return v;
  if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(Register, v)) return Register[v as keyof typeof Register];
  throw invalidArgValue(name, v, 'must be a register call name or number from 0 to 255');
}

function flagBits(list: unknown, name: string): number {
  if (!Array.isArray(list)) throw invalidArgType(name, 'an Array of flag names', list);
  let bits = 0;
  list.forEach((f, k) => {
    if (typeof f !== 'string' || !Object.prototype.hasOwnProperty.call(SQE_FLAGS, f)) {
      throw invalidArgValue(`${name}[${k}]`, f, `must be one of ${Object.keys(SQE_FLAGS).join(', ')}`);
    }
    bits |= SQE_FLAGS[f as SqeFlagName];
  });
  return bits;
}

/** @internal Validates restrictions and encodes the kernel's array (before any syscall). */
export function encodeRestrictions(r: Restrictions, name = 'options.restrictions'): Uint8Array {
  validateObject(r, name);
  if (!Array.isArray(r.ops)) throw invalidArgType(`${name}.ops`, 'an Array', r.ops);
  const entries: [number, number][] = [];
  const ops = new Set<number>([Op.ASYNC_CANCEL]);
  r.ops.forEach((v, k) => ops.add(opNumber(v, `${name}.ops[${k}]`)));
  for (const op of ops) entries.push([RESTRICTION_SQE_OP, op]);
  if (r.register !== undefined) {
    if (!Array.isArray(r.register)) throw invalidArgType(`${name}.register`, 'an Array', r.register);
    r.register.forEach((v, k) => entries.push([RESTRICTION_REGISTER_OP, registerNumber(v, `${name}.register[${k}]`)]));
  }
  const f = r.sqeFlags;
  if (f !== undefined) validateObject(f, `${name}.sqeFlags`);
  const allowed = f?.allowed === undefined ? Object.values(SQE_FLAGS).reduce((a, b) => a | b, 0)
    : flagBits(f.allowed, `${name}.sqeFlags.allowed`);
  const required = f?.required === undefined ? 0 : flagBits(f.required, `${name}.sqeFlags.required`);
  entries.push([RESTRICTION_SQE_FLAGS_ALLOWED, allowed]);
  if (required !== 0) entries.push([RESTRICTION_SQE_FLAGS_REQUIRED, required]);
  const out = new Uint8Array(entries.length * 16);
  const dv = new DataView(out.buffer);
  entries.forEach(([kind, value], k) => {
    dv.setUint16(k * 16, kind, true);
    out[k * 16 + 2] = value;
  });
  return out;
}

/** @internal Number of entries in an encoded restriction array. */
export function restrictionCount(encoded: Uint8Array): number {
  return encoded.byteLength / 16;
}
