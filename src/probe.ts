// Which opcodes the running kernel supports, from IORING_REGISTER_PROBE.
import { IO_URING_OP_SUPPORTED, OP_NAMES, Register } from './constants';
import type { NativeBinding } from './native';
import { systemError } from './errors';

const PROBE_OPS = 256;

/** The answer of IORING_REGISTER_PROBE. */
export class Probe {
  /** Highest opcode the kernel knows. */
  readonly lastOp: number;
  private readonly supported: Uint8Array;
  /** Wraps a probe answer: `supported[op]` is 1 for each supported opcode. */
  constructor(lastOp: number, supported: Uint8Array) {
    this.lastOp = lastOp;
    this.supported = supported;
  }
  /** Whether an opcode (number or name such as 'READ') is supported. */
  supports(op: number | string): boolean {
    const n = typeof op === 'number' ? op : OP_NAMES.indexOf(op.toUpperCase());
    return n >= 0 && n < this.supported.length && this.supported[n] === 1;
  }
  /** Names of the supported opcodes this library knows. */
  get ops(): string[] {
    return OP_NAMES.filter((_, i) => this.supported[i] === 1);
  }
}

export function readProbe(n: NativeBinding, fd: number): Probe {
  // struct io_uring_probe: last_op, ops_len, resv, resv2[3], then 8-byte ops.
  const buf = new Uint8Array(16 + PROBE_OPS * 8);
  const ret = n.register(fd, Register.REGISTER_PROBE, buf, PROBE_OPS);
  if (ret < 0) {
    if (ret === -22) return new Probe(-1, new Uint8Array(0)); // kernels before 5.6
    throw systemError(ret, 'io_uring_register');
  }
  const lastOp = buf[0]!;
  const len = buf[1]!;
  const dv = new DataView(buf.buffer);
  const supported = new Uint8Array(PROBE_OPS);
  for (let i = 0; i < len; i++) {
    const op = buf[16 + i * 8]!;
    const flags = dv.getUint16(16 + i * 8 + 2, true);
    if (flags & IO_URING_OP_SUPPORTED) supported[op] = 1;
  }
  return new Probe(lastOp, supported);
}
