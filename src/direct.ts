// Direct descriptors: operations that put a file straight into a slot of the
// ring's table (or take one out) without it ever having an fd. The target slot
// goes in sqe->file_index as slot + 1 (0 would mean "a plain fd"), or as
// IORING_FILE_INDEX_ALLOC to let the kernel choose a free slot within the
// table's allocation range; the CQE's res is then the chosen slot.
//
// Each builder returns an Operation whose `change` brackets its effect on the
// table's view (FileTable._change): begun when the funnel places the request,
// settled on its CQE, whoever submitted it (a FileTable method, a chain step,
// uring/net). The view changes only when the CQE says the kernel did it.
import {
  FILE_INDEX_ALLOC, FIXED_FD_NO_CLOEXEC, IOSQE_FIXED_FILE, MSG_SEND_FD, O_CLOEXEC, O_RDONLY,
} from './constants';
import { FixedFile, fileTarget, fixedSlot } from './files';
import type { FileTable } from './file-table';
import { dirfdOf, openPath, closeSlot, openat2 as openat2Op } from './ops/paths';
import type { OpenOptions, Open2Options } from './ring';
import { RingCore } from './ring-core';
import { OPS } from './opcodes';
import { Operation } from './operation';
import { internalAddress, kernelPath } from './memory';
import { optionsOf, requestOptions, withOptions, OpOptions } from './options';
import { validateFd, validateInt32, validateInteger, validateUint32 } from './validators';
import { invalidArgType, invalidArgValue, ringClosed } from './errors';
import { MAX_TABLE_SIZE, MSG_BIT, validateFdList } from './file-limits';
import { TAG_BIT } from './requests';

const EBADF = -9;

/** Where a direct descriptor goes. */
export interface SlotOptions extends OpOptions {
  /** A slot index, or 'alloc' (the default) to let the kernel pick a free one. */
  slot?: number | 'alloc';
}
/** Options of FileTable.openat(): openat's options and the target slot. */
export interface DirectOpenOptions extends OpenOptions, SlotOptions {}
/** Options of FileTable.openat2(): openat2's options and the target slot. */
export interface DirectOpen2Options extends Open2Options, SlotOptions {}
/** Options of FileTable.accept(). */
export interface AcceptDirectOptions extends SlotOptions {
  /** accept4(2) flags: SOCK_NONBLOCK (SOCK_CLOEXEC has no meaning for a slot). */
  flags?: number;
}
/** Options of FileTable.install(). */
export interface InstallOptions extends OpOptions {
  /** Set close-on-exec on the new fd (default true). */
  cloexec?: boolean;
}
/** Options of FileTable.send(). */
export interface SendFileOptions extends OpOptions {
  /** Slot in the target's table, or 'alloc' (the default) to let its kernel side pick one. */
  slot?: number | 'alloc';
  /** A 32-bit value delivered with the file (ReceivedFile.data). Default 0. */
  data?: number;
}
/** The outcome of updateAsync(). */
export interface AsyncUpdateResult {
  /** Entries applied, from the first; the entry at `applied` (if any) was refused. */
  applied: number;
  /** The slot each applied entry went to. */
  files: FixedFile[];
}

/** The file_index word and the explicit slot (-1 for alloc) of a slot option. */
function slotOf(table: FileTable, slot: unknown, name = 'options.slot'): [number, number] {
  table.needTable();
  if (slot === undefined || slot === 'alloc') return [FILE_INDEX_ALLOC, -1];
  if (typeof slot !== 'number') throw invalidArgType(name, "a slot number or 'alloc'", slot);
  const s = table.checkSlot(slot, name);
  return [s + 1, s];
}

/**
 * Makes `op` install one file in `slot` (-1: a slot the kernel allocates,
 * named by res): it resolves with the FixedFile, and its errors name the slot.
 */
function installing(table: FileTable, op: Operation, fileIndex: number, slot: number): Operation {
  op.fileIndex = fileIndex;
  if (slot >= 0) op.slot = slot;
  op.returnsFd = false;
  const at = (res: number): number => (slot >= 0 ? slot : res);
  op.change = table._change(slot, 1, (res) => (res >= 0 ? [at(res)] : [slot]), (res) => {
    if (res >= 0) table._installed(at(res));
  });
  op.map = (res) => new FixedFile(table._ring, at(res));
  return op;
}

function refuseCloexec(flags: number, name: string, what = 'O_CLOEXEC'): void {
  if (flags & O_CLOEXEC) {
    throw invalidArgValue(name, flags, `must not contain ${what}: a direct descriptor has no fd to close on exec`);
  }
}

/**
 * openat(2) into a slot of the table; resolves with the FixedFile. Opening
 * into an occupied slot replaces its file (the old one lives on until I/O in
 * flight on it completes). Errors: ERR_URING_NO_FILE_TABLE without a table;
 * ERR_OUT_OF_RANGE for a slot outside it; ENFILE when 'alloc' finds no slot.
 */
export function openat(table: FileTable, path: unknown, flags: unknown = O_RDONLY, mode: unknown = 0o666,
  options?: DirectOpenOptions): Operation {
  const p = kernelPath(path, 'path');
  const f = validateInt32(flags, 'flags');
  refuseCloexec(f, 'flags');
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const { slot, dirfd, signal, timeout } = optionsOf(options) ?? {};
  const [idx, s] = slotOf(table, slot);
  const op = openPath(p, f, m, dirfdOf(dirfd), idx);
  return requestOptions(installing(table, op, idx, s), signal, timeout);
}

/** Opens `path` into the explicit slot `file` (a chain's openDirect step). */
export function openInto(table: FileTable, file: unknown, path: unknown, flags: unknown = O_RDONLY,
  mode: unknown = 0o666, options?: { dirfd?: number }): Operation {
  const slot = table.checkSlot(fixedSlot(file, table._ring, 'file'), 'file');
  const p = kernelPath(path, 'path');
  const f = validateInt32(flags, 'flags');
  refuseCloexec(f, 'flags');
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const { dirfd } = optionsOf(options) ?? {};
  return installing(table, openPath(p, f, m, dirfdOf(dirfd), slot + 1), slot + 1, slot);
}

/** openat2(2) with RESOLVE_* flags into a slot of the table. See openat. */
export function openat2(table: FileTable, path: unknown, flags: unknown = O_RDONLY, mode: unknown = 0,
  options?: DirectOpen2Options): Operation {
  const o = optionsOf(options);
  const [idx, s] = slotOf(table, o?.slot);
  const op = openat2Op(table._ring, path, flags, mode, o, idx, (f) => refuseCloexec(f, 'flags'));
  return installing(table, op, idx, s);
}

/**
 * socket(2) into a slot (IORING_OP_SOCKET, Linux 5.19+). `type` may carry
 * SOCK_NONBLOCK but not SOCK_CLOEXEC.
 */
export function socket(table: FileTable, domain: unknown, type: unknown, protocol: unknown = 0,
  options?: SlotOptions): Operation {
  table._ring._need(OPS.socket.op, 'SOCKET');
  const d = validateInt32(domain, 'domain', 0);
  const t = validateInt32(type, 'type', 0);
  refuseCloexec(t, 'type', 'SOCK_CLOEXEC');
  const pr = validateInt32(protocol, 'protocol', 0);
  const { slot, signal, timeout } = optionsOf(options) ?? {};
  const [idx, s] = slotOf(table, slot);
  const op = new Operation(OPS.socket);
  op.fd = d;
  op.off = t;
  op.len = pr;
  return requestOptions(installing(table, op, idx, s), signal, timeout);
}

/**
 * Accepts one connection on `listener` (an fd or a FixedFile) into a slot.
 * Waits for a connection; close() of the ring cancels it.
 */
export function accept(table: FileTable, listener: unknown, options?: AcceptDirectOptions): Operation {
  const target = fileTarget(listener, OPS.accept, table._ring, 'listener');
  const { slot, flags, signal, timeout } = optionsOf(options) ?? {};
  const [idx, s] = slotOf(table, slot);
  const f = flags === undefined ? 0 : validateInt32(flags, 'options.flags', 0);
  refuseCloexec(f, 'options.flags', 'SOCK_CLOEXEC');
  const op = new Operation(OPS.accept).file(target);
  op.opFlags = f;
  return requestOptions(installing(table, op, idx, s), signal, timeout);
}

/**
 * Closes the file in a slot (IORING_OP_CLOSE with file_index; Linux 5.15+).
 * I/O already in flight on the file completes on it. Rejects EBADF when the
 * slot is empty (and the view then records it empty).
 */
export function close(table: FileTable, file: unknown, options?: OpOptions): Operation {
  const slot = table.checkSlot(fixedSlot(file, table._ring, 'file'), 'file');
  const op = closeSlot(slot);
  op.change = table._change(slot, 1, () => [slot], (res) => {
    if (res >= 0 || res === EBADF) table._removed(slot);
  });
  op.map = () => undefined;
  return withOptions(op, options);
}

/**
 * Installs a slot's file as a regular fd in the process (Linux 6.8+); the
 * slot keeps its file. Resolves with the fd (close-on-exec unless
 * `cloexec: false`).
 */
export function install(table: FileTable, file: unknown, options?: InstallOptions): Operation {
  const ring = table._ring;
  ring._need(OPS.fixedFdInstall.op, 'FIXED_FD_INSTALL');
  const slot = table.checkSlot(fixedSlot(file, ring, 'file'), 'file');
  const { cloexec = true, signal, timeout } = optionsOf(options) ?? {};
  if (typeof cloexec !== 'boolean') throw invalidArgType('options.cloexec', 'of type boolean', cloexec);
  // This opcode is the one that requires the fixed flag: fd is the slot.
  const op = new Operation(OPS.fixedFdInstall);
  op.fd = slot;
  op.flags = IOSQE_FIXED_FILE;
  op.opFlags = cloexec ? 0 : FIXED_FD_NO_CLOEXEC;
  op.slot = slot;
  op.returnsFd = true;
  return requestOptions(op, signal, timeout);
}

/**
 * IORING_OP_FILES_UPDATE: like FileTable.update() but as a request in the
 * ring (ordered with links). With 'alloc' the kernel puts each fd in a free
 * slot. Rejects when the first entry is refused; a partial update resolves
 * with `applied` < fds.length.
 */
export function updateAsync(table: FileTable, offset: unknown, fds: unknown, options?: OpOptions): Operation {
  const ring = table._ring;
  table.needTable();
  const alloc = offset === 'alloc';
  const start = alloc ? 0 : validateInteger(offset, 'offset', 0, table.size - 1);
  const list = validateFdList(fds, 'fds', alloc ? 0 : -2, table.size - start);
  const data = new Int32Array(list);
  const op = new Operation(OPS.filesUpdate);
  op.fd = -1;
  op.addr = internalAddress(data);
  op.len = list.length;
  op.off = alloc ? FILE_INDEX_ALLOC : start;
  op.hold = data;
  if (!alloc) op.slot = start;
  // With alloc the kernel wrote each chosen slot back into the array.
  const slotAt = (k: number): number => (alloc ? data[k]! : start + k);
  const landed = (res: number): number[] => Array.from({ length: Math.max(0, res) }, (_, k) => slotAt(k));
  op.change = table._change(alloc ? -1 : start, list.length, (res) => (res >= 0 ? landed(res) : []), (res) => {
    for (let k = 0; k < res; k++) {
      if (list[k] === -1) table._removed(slotAt(k));
      else if (list[k]! >= 0) table._installed(slotAt(k));
    }
  });
  op.map = (res) => ({ applied: res, files: landed(res).map((s) => new FixedFile(ring, s)) });
  return withOptions(op, options);
}

/**
 * Passes the file in one of this ring's slots to another ring's table
 * (IORING_OP_MSG_RING with IORING_MSG_SEND_FD, Linux 6.0+). The target is a
 * Ring, or the fd number of a ring anywhere in this process (a worker
 * thread's ring, say); it needs a registered table with room, and receives
 * the file through `ring.files.receive()`. This ring's slot keeps its file.
 * Resolves with the target slot.
 */
export function send(table: FileTable, file: unknown, target: unknown, options?: SendFileOptions): Operation {
  const ring = table._ring;
  ring._need(OPS.msgRing.op, 'MSG_RING');
  const src = table.checkSlot(fixedSlot(file, ring, 'file'), 'file');
  let targetFd: number;
  if (target instanceof RingCore) {
    if (target.closed) throw ringClosed();
    targetFd = target.fd;
  } else {
    targetFd = validateFd(target, 'target');
  }
  if (targetFd === ring.fd) throw invalidArgValue('target', target, 'must be another ring (a file cannot be sent to its own ring)');
  const { slot: slotOpt, data: dataOpt, signal, timeout } = optionsOf(options) ?? {};
  const slot = slotOpt === undefined || slotOpt === 'alloc' ? -1 : validateInteger(slotOpt, 'options.slot', 0, MAX_TABLE_SIZE - 1);
  const data = dataOpt === undefined ? 0 : validateUint32(dataOpt, 'options.data');
  const op = new Operation(OPS.msgRing);
  op.fd = targetFd;
  op.addr = MSG_SEND_FD;
  // sqe->off is the user_data of the target's CQE: the data, and in the high
  // word TAG_BIT|MSG_BIT with the explicit slot + 1 (the target's res is 0
  // then; with alloc it is the slot).
  op.off = (BigInt((TAG_BIT | MSG_BIT | (slot + 1)) >>> 0) << 32n) | BigInt(data);
  op.fileIndex = slot >= 0 ? slot + 1 : FILE_INDEX_ALLOC;
  op.addr3 = src; // the source slot
  op.slot = src;
  op.map = (res) => (slot >= 0 ? slot : res);
  return requestOptions(op, signal, timeout);
}
