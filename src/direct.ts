// Direct descriptors: operations that put a file straight into a slot of the
// ring's table (or take one out) without it ever having an fd. The target slot
// goes in sqe->file_index as slot + 1 (0 would mean "a plain fd"), or as
// IORING_FILE_INDEX_ALLOC to let the kernel choose a free slot within the
// table's allocation range; the CQE's res is then the chosen slot. The table's
// view changes only when the CQE says the kernel did it.
import {
  FILE_INDEX_ALLOC, FIXED_FD_NO_CLOEXEC, IOSQE_FIXED_FILE, MSG_SEND_FD, O_CLOEXEC, O_RDONLY, Op,
} from './constants';
import { FixedFile, FileRef, fixedSlot } from './files';
import type { FileTable } from './file-table';
import { MAX_TABLE_SIZE, MSG_BIT } from './file-table';
import type { Ring, PathLike, OpenOptions, Open2Options } from './ring';
import { dirfdOf, openHow, pathString } from './op-prep';
import { RingCore, OpOptions } from './ring-core';
import { OPS, OpSpec } from './opcodes';
import { prep, put64 } from './sq';
import { cstring, internalAddress } from './memory';
import { abortedBeforeStart, applyOptions, optionSlots } from './submit-options';
import { validateFd, validateInt32, validateInteger, validateUint32 } from './validators';
import { invalidArgType, invalidArgValue, ringClosed, systemError } from './errors';
import { validateFdList } from './file-limits';
import { TAG_BIT } from './requests';

/** Linux SOCK_CLOEXEC has the value of O_CLOEXEC. */
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
 * A request that changes `n` slots of the table from `slot` (-1: slots the
 * kernel picks; `landed` then names them from the result).
 */
interface Change {
  table: FileTable;
  slot: number;
  n: number;
  landed?: (res: number) => number[];
}

function span(c: Change): number[] {
  const out: number[] = [];
  for (let s = c.slot; s >= 0 && s < c.slot + c.n; s++) out.push(s);
  return out;
}

/**
 * Tracks a direct operation; errors name the slot; `done` runs on success,
 * `onError` on failure. With `change`, the table orders the request's effect
 * against other changes to its slots (FileTable._begin/_settle).
 */
function track<T>(ring: Ring, i: number, hold: unknown, spec: OpSpec, options: OpOptions | undefined,
  slot: number, done: (res: number) => T, path?: string, onError?: (res: number) => void,
  change?: Change): Promise<T> {
  const { req, promise } = ring._trackReq(i, hold, spec.name);
  req.path = path;
  req.waiter = spec.waiter === true;
  req.map = change === undefined ? done : (res) => {
    let out!: T;
    change.table._settle(change.slot, change.n, change.landed?.(res) ?? span(change), () => { out = done(res); });
    return out;
  };
  req.fail = (res) => {
    if (change === undefined) onError?.(res);
    else change.table._settle(change.slot, change.n, span(change), () => onError?.(res));
    return systemError(res, spec.name, { path, slot: slot >= 0 ? slot : undefined });
  };
  if (options !== undefined) applyOptions(ring, i, req, options);
  change?.table._begin(change.slot, change.n);
  return promise;
}

/** Resolves an installing operation: the slot is the explicit one, or res when allocated. */
function installed(table: FileTable, slot: number): (res: number) => FixedFile {
  return (res) => {
    const s = slot >= 0 ? slot : res;
    table._installed(s);
    return new FixedFile(table._ring, s);
  };
}

/** The Change of an operation that installs one file in `slot` (-1: allocated; res is the slot). */
function installing(table: FileTable, slot: number): Change {
  return { table, slot, n: 1, landed: (res) => [slot >= 0 ? slot : res] };
}

function refuseCloexec(flags: number, name: string, what = 'O_CLOEXEC'): void {
  if (flags & O_CLOEXEC) {
    throw invalidArgValue(name, flags, `must not contain ${what}: a direct descriptor has no fd to close on exec`);
  }
}

/** Validates the arguments both direct opens share. */
function openArgs(table: FileTable, path: PathLike, flags: number, mode: number,
  options: DirectOpenOptions | undefined): { idx: number; slot: number; p: Buffer; dirfd: number } {
  const [idx, slot] = slotOf(table, options?.slot);
  const p = cstring(path, 'path');
  validateInt32(flags, 'flags');
  refuseCloexec(flags, 'flags');
  validateInteger(mode, 'mode', 0, 0o7777);
  return { idx, slot, p, dirfd: dirfdOf(options) };
}

/**
 * openat(2) into a slot of the table. Resolves with the FixedFile.
 * Opening into an occupied slot replaces its file (the old one lives on until
 * I/O in flight on it completes).
 * @throws ERR_URING_NO_FILE_TABLE without a table; ERR_OUT_OF_RANGE for a slot
 * outside it; rejects ENFILE when 'alloc' finds no free slot.
 * @example
 * ```ts
 * ring.files.registerSparse(16);
 * const f = await ring.files.openat('/etc/hostname');
 * await ring.read(f, buf, 0);
 * await ring.files.close(f);
 * ```
 */
export function openatDirect(table: FileTable, path: PathLike, flags = O_RDONLY, mode = 0o666,
  options?: DirectOpenOptions): Promise<FixedFile> {
  const ring = table._ring;
  ring._checkOpen();
  const { idx, slot, p, dirfd } = openArgs(table, path, flags, mode, options);
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.OPENAT, 0, dirfd, internalAddress(p), mode, 0);
  w[i + 7] = flags;
  w[i + 11] = idx;
  return track(ring, i, p, OPS.openat, options, slot, installed(table, slot), pathString(path), undefined,
    installing(table, slot));
}

/** openat2(2) with RESOLVE_* flags into a slot of the table. See openatDirect. */
export function openat2Direct(table: FileTable, path: PathLike, flags = O_RDONLY, mode = 0,
  options?: DirectOpen2Options): Promise<FixedFile> {
  const ring = table._ring;
  ring._checkOpen();
  ring._need(Op.OPENAT2, 'OPENAT2');
  const { idx, slot, p, dirfd } = openArgs(table, path, flags, mode, options);
  const how = openHow(flags, mode, options?.resolve);
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.OPENAT2, 0, dirfd, internalAddress(p), 24, internalAddress(how));
  w[i + 11] = idx;
  return track(ring, i, [p, how], OPS.openat2, options, slot, installed(table, slot), pathString(path), undefined,
    installing(table, slot));
}

/**
 * socket(2) into a slot (IORING_OP_SOCKET, Linux 5.19+). `type` may carry
 * SOCK_NONBLOCK but not SOCK_CLOEXEC.
 */
export function socketDirect(table: FileTable, domain: number, type: number, protocol = 0,
  options?: SlotOptions): Promise<FixedFile> {
  const ring = table._ring;
  ring._checkOpen();
  ring._need(Op.SOCKET, 'SOCKET');
  const [idx, slot] = slotOf(table, options?.slot);
  validateInt32(domain, 'domain', 0);
  validateInt32(type, 'type', 0);
  refuseCloexec(type, 'type', 'SOCK_CLOEXEC');
  validateInt32(protocol, 'protocol', 0);
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.SOCKET, 0, domain, 0, protocol, type);
  w[i + 11] = idx;
  return track(ring, i, undefined, OPS.socket, options, slot, installed(table, slot), undefined, undefined,
    installing(table, slot));
}

/**
 * Accepts one connection on `listener` (an fd or a FixedFile) into a slot.
 * Waits for a connection; close() of the ring cancels it.
 */
export function acceptDirect(table: FileTable, listener: FileRef, options?: AcceptDirectOptions): Promise<FixedFile> {
  const ring = table._ring;
  ring._checkOpen();
  const fd = ring._file(listener, OPS.accept, 'listener');
  const ff = ring._ff;
  const [idx, slot] = slotOf(table, options?.slot);
  const flags = options?.flags === undefined ? 0 : validateInt32(options.flags, 'options.flags', 0);
  refuseCloexec(flags, 'options.flags', 'SOCK_CLOEXEC');
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.ACCEPT, ff, fd, 0, 0, 0);
  w[i + 7] = flags;
  w[i + 11] = idx;
  return track(ring, i, undefined, OPS.accept, options, slot, installed(table, slot), undefined, undefined,
    installing(table, slot));
}

/**
 * Closes the file in a slot (IORING_OP_CLOSE with file_index; Linux 5.15+).
 * The SQE never carries IOSQE_FIXED_FILE: the kernel answers EBADF if it does.
 * I/O already in flight on the file completes on it.
 * @throws rejects EBADF when the slot is empty.
 */
export function closeDirect(table: FileTable, file: FixedFile, options?: OpOptions): Promise<void> {
  const ring = table._ring;
  ring._checkOpen();
  if (!(file instanceof FixedFile)) throw invalidArgType('file', 'an instance of FixedFile', file);
  const slot = table.checkSlot(fixedSlot(file, ring, 'file'), 'file');
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.CLOSE, 0, 0, 0, 0, 0);
  w[i + 11] = slot + 1;
  return track(ring, i, undefined, OPS.closeDirect, options, slot,
    () => { table._removed(slot); },
    undefined, (res) => { if (res === EBADF) table._removed(slot); }, { table, slot, n: 1 });
}

/**
 * Installs a slot's file as a regular fd in the process (Linux 6.8+); the
 * slot keeps its file. Resolves with the fd (close-on-exec unless
 * `cloexec: false`).
 */
export function installFd(table: FileTable, file: FixedFile, options?: InstallOptions): Promise<number> {
  const ring = table._ring;
  ring._checkOpen();
  ring._need(Op.FIXED_FD_INSTALL, 'FIXED_FD_INSTALL');
  if (!(file instanceof FixedFile)) throw invalidArgType('file', 'an instance of FixedFile', file);
  const slot = table.checkSlot(fixedSlot(file, ring, 'file'), 'file');
  const cloexec = options?.cloexec === undefined ? true : options.cloexec;
  if (typeof cloexec !== 'boolean') throw invalidArgType('options.cloexec', 'of type boolean', cloexec);
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  // This opcode is the one that requires the fixed flag: fd is the slot.
  prep(w, i, Op.FIXED_FD_INSTALL, IOSQE_FIXED_FILE, slot, 0, 0, 0);
  w[i + 7] = cloexec ? 0 : FIXED_FD_NO_CLOEXEC;
  return track(ring, i, undefined, OPS.fixedFdInstall, options, slot, (res) => res);
}

/**
 * IORING_OP_FILES_UPDATE: like FileTable.update() but as a request in the
 * ring (ordered with links). With 'alloc' the kernel puts each fd in a free
 * slot. Rejects when the first entry is refused; a partial update resolves
 * with `applied` < fds.length.
 */
export function updateAsync(table: FileTable, offset: number | 'alloc', fds: readonly number[],
  options?: OpOptions): Promise<AsyncUpdateResult> {
  const ring = table._ring;
  ring._checkOpen();
  table.needTable();
  const alloc = offset === 'alloc';
  let start = 0;
  if (!alloc) start = validateInteger(offset, 'offset', 0, table.size - 1);
  const list = validateFdList(fds, 'fds', alloc ? 0 : -2, table.size - start);
  const data = new Int32Array(list);
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  prep(ring._w, i, Op.FILES_UPDATE, 0, -1, internalAddress(data), list.length, alloc ? FILE_INDEX_ALLOC : start);
  return track(ring, i, data, OPS.filesUpdate, options, alloc ? -1 : start, (res) => {
    const files: FixedFile[] = [];
    for (let k = 0; k < res; k++) {
      // With alloc the kernel wrote each chosen slot back into the array.
      const s = alloc ? data[k]! : start + k;
      if (list[k] === -1) table._removed(s);
      else if (list[k]! >= 0) table._installed(s);
      files.push(new FixedFile(ring, s));
    }
    return { applied: res, files };
  }, undefined, undefined, {
    table, slot: alloc ? -1 : start, n: list.length,
    landed: (res) => Array.from({ length: res }, (_, k) => (alloc ? data[k]! : start + k)),
  });
}

/**
 * Passes the file in one of this ring's slots to another ring's table
 * (IORING_OP_MSG_RING with IORING_MSG_SEND_FD, Linux 6.0+). The target is a
 * Ring, or the fd number of a ring anywhere in this process (a worker
 * thread's ring, say); it needs a registered table with room, and receives
 * the file through `ring.files.receive()`. This ring's slot keeps its file.
 * Resolves with the target slot.
 */
export function sendFile(table: FileTable, file: FixedFile, target: Ring | number,
  options?: SendFileOptions): Promise<number> {
  const ring = table._ring;
  ring._checkOpen();
  ring._need(Op.MSG_RING, 'MSG_RING');
  if (!(file instanceof FixedFile)) throw invalidArgType('file', 'an instance of FixedFile', file);
  const src = table.checkSlot(fixedSlot(file, ring, 'file'), 'file');
  let targetFd: number;
  if (target instanceof RingCore) {
    if (target.closed) throw ringClosed();
    targetFd = target.fd;
  } else {
    targetFd = validateFd(target, 'target');
  }
  if (targetFd === ring.fd) throw invalidArgValue('target', target, 'must be another ring (a file cannot be sent to its own ring)');
  let slot = -1;
  if (options?.slot !== undefined && options.slot !== 'alloc') {
    slot = validateInteger(options.slot, 'options.slot', 0, MAX_TABLE_SIZE - 1);
  }
  const data = options?.data === undefined ? 0 : validateUint32(options.data, 'options.data');
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.MSG_RING, 0, targetFd, MSG_SEND_FD, 0, 0);
  // sqe->off is the user_data of the target's CQE: the data, and in the high
  // word TAG_BIT|MSG_BIT with the explicit slot + 1 (the target's res is 0
  // then; with alloc it is the slot).
  w[i + 2] = data;
  w[i + 3] = (TAG_BIT | MSG_BIT | (slot + 1)) >>> 0;
  w[i + 11] = slot >= 0 ? slot + 1 : FILE_INDEX_ALLOC;
  put64(w, i + 12, src); // addr3: the source slot
  return track(ring, i, undefined, OPS.msgRing, options, src, (res) => (slot >= 0 ? slot : res));
}
