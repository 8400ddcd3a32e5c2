// Races on the registered file table: reads and writes on 64 slots while
// another loop updates slots, closes and opens direct descriptors, cancels,
// and unregisters and re-registers the table.
//
// Each race runs in a child process (this file, with URING_RACES_CHILD set to
// the ring shape) under a watchdog, so that a hang fails the test instead of
// stalling it. The child checks everything itself and prints a JSON summary.
//
// What is asserted, and why it is exact:
// - Every file k (1..NFILES) holds bytes all equal to k in its read region;
//   every pipe p holds only bytes equal to PIPE_ID + p. A read that resolves
//   must return bytes all equal to ONE identity, and that identity must have
//   possibly been in the slot while the read was in flight. The model of
//   "possibly in the slot" starts each read with the slot's possible
//   occupants, adds everything any change puts there until the read settles,
//   and shrinks only when the order of events is certain (a synchronous
//   register call, or a direct operation's CQE with no other change to that
//   slot pending or made since it was submitted).
// - A read or write that rejects with EBADF must have seen an empty or absent
//   slot as possible. ECANCELED only comes from the loop's cancelFd() and the
//   final cancelAll() (cancelFd() itself answers EBADF for an empty slot,
//   which it looks up). Direct operations may also answer ENXIO (no table when
//   the kernel ran them), ENFILE (an 'alloc' open into a full or absent table)
//   and ERR_URING_NO_FILE_TABLE (no table when called). Nothing else passes.
// - Every write puts a pattern unique to it at an offset unique to it. At the
//   end a resolved write's pattern is in exactly one file, one that was
//   possibly in its slot; a rejected write's pattern is in none.
// - Pipe bytes are conserved: written = read by resolved reads + left in the
//   pipe, so no completion was lost, duplicated or misrouted.
// - Every promise settles once; nothing is pending at the end; the library's
//   view of the table (size, occupied slots) equals /proc fdinfo, and each
//   file fdinfo shows is one the model allows in that slot; no fd leaks.
//
// URING_RACES_ITERATIONS sets the data operations per shape (default 5000);
// URING_RACES_SEED replays a run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { Ring, FileTable, FixedFile, FixedBuffer, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, fdinfo, openFdCount, tempDir } from '../helpers';

const ITERATIONS = Number(process.env.URING_RACES_ITERATIONS ?? 5000);
const TABLE = 64;
/** Slots 0..FILE_SLOTS-1 take regular files; the rest take pipes. */
const FILE_SLOTS = 56;
const NFILES = 40;
const NPIPES = 4;
const PIPE_ID = 200;
const EMPTY = 0;
const READ_REGION = 4096;
const SCRATCH = 8192;
const WSIZE = 16;
const IN_FLIGHT = 24;
const PIPE_READS_MAX = 6;
const MUTATIONS_IN_FLIGHT = 6;
const PIPE_FILL = 8192;

/** xorshift32, seeded so a failing run can be replayed. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/** One read or write in flight: the identities possibly in its slot meanwhile. */
interface Flight { slot: number; cand: Set<number> }

/**
 * What may be in each slot. A synchronous register call is ordered against
 * everything; a direct operation takes effect at some unknown moment between
 * its submission and its CQE.
 */
class SlotModel {
  readonly poss: Set<number>[] = Array.from({ length: TABLE }, () => new Set([EMPTY]));
  private readonly watchers: Set<Flight>[] = Array.from({ length: TABLE }, () => new Set());
  private readonly pendingOn: Map<number, number>[] = Array.from({ length: TABLE }, () => new Map());
  private readonly pendingAlloc = new Map<number, number>();
  /** Value of `clock` at the slot's last synchronous change. */
  private readonly changedAt = new Float64Array(TABLE);
  clock = 0;
  private nextOp = 1;

  private add(s: number, id: number): void {
    this.poss[s]!.add(id);
    for (const f of this.watchers[s]!) f.cand.add(id);
  }

  /** A synchronous call set slot `s` to `id` (or emptied it). */
  setSync(s: number, id: number): void {
    this.changedAt[s] = ++this.clock;
    const p = new Set([id, ...this.pendingOn[s]!.values(), ...this.pendingAlloc.values()]);
    this.poss[s] = p;
    for (const f of this.watchers[s]!) f.cand.add(id);
  }

  /** A direct operation that may put `id` (EMPTY for a close) in slot `s` (-1: any slot) was submitted. */
  begin(s: number, id: number): { op: number; s: number; id: number; at: number } {
    const op = this.nextOp++;
    if (s >= 0) {
      this.pendingOn[s]!.set(op, id);
      this.add(s, id);
    } else {
      this.pendingAlloc.set(op, id);
      for (let k = 0; k < TABLE; k++) this.add(k, id);
    }
    return { op, s, id, at: this.clock };
  }

  /** It completed; `landed` is the slot it acted on when it did (undefined: it did nothing). */
  end(t: { op: number; s: number; id: number; at: number }, landed: number | undefined): void {
    if (t.s >= 0) this.pendingOn[t.s]!.delete(t.op);
    else this.pendingAlloc.delete(t.op);
    if (landed === undefined) return;
    const certain = this.changedAt[landed]! <= t.at && this.pendingOn[landed]!.size === 0 && this.pendingAlloc.size === 0;
    if (certain) this.poss[landed] = new Set([t.id]);
  }

  watch(slot: number): Flight {
    const f = { slot, cand: new Set(this.poss[slot]) };
    this.watchers[slot]!.add(f);
    return f;
  }

  unwatch(f: Flight): void {
    this.watchers[f.slot]!.delete(f);
  }
}

interface Summary {
  shape: string;
  seed: number;
  reads: { ok: number; EBADF: number; ECANCELED: number };
  writes: { ok: number; EBADF: number; ECANCELED: number };
  direct: Record<string, number>;
  updates: number;
  reregisters: number;
  gcs: number;
  pipeBytes: number;
  finalOccupied: number;
  ms: number;
}

function codeOf(e: unknown): string {
  return String((e as { code?: unknown })?.code ?? (e as Error)?.message ?? e);
}

async function race(shapeName: string, iterations: number, seed: number): Promise<Summary> {
  const shape = allShapes().find((s) => s.name === shapeName)!;
  const n = native();
  const gc = (globalThis as { gc?: () => void }).gc;
  const rand = rng(seed);
  const t0 = performance.now();
  const fdsBefore = openFdCount();
  const tmp = tempDir('uring-races-');
  const paths: string[] = [];
  const fileFds: number[] = [];
  const idOfFd = new Map<number, number>();
  const idOfName = new Map<string, number>();
  for (let k = 1; k <= NFILES; k++) {
    const p = tmp.path(`f${k}`);
    writeFileSync(p, Buffer.alloc(READ_REGION, k));
    paths.push(p);
    const fd = openSync(p, 'r+');
    fileFds.push(fd);
    idOfFd.set(fd, k);
    idOfName.set(p, k);
  }
  const pipes: [number, number][] = [];
  const written = new Array<number>(NPIPES).fill(0);
  const consumed = new Array<number>(NPIPES).fill(0);
  for (let p = 0; p < NPIPES; p++) {
    const fds = n.pipe() as [number, number];
    pipes.push(fds);
    idOfFd.set(fds[0], PIPE_ID + p);
    idOfName.set(`pipe:[${fstatSync(fds[0]).ino}]`, PIPE_ID + p);
  }
  const isPipe = (id: number): boolean => id >= PIPE_ID;

  const ring = new Ring(shape.options);
  const model = new SlotModel();
  const summary: Summary = {
    shape: shapeName, seed, reads: { ok: 0, EBADF: 0, ECANCELED: 0 }, writes: { ok: 0, EBADF: 0, ECANCELED: 0 },
    direct: {}, updates: 0, reregisters: 0, gcs: 0, pipeBytes: 0, finalOccupied: 0, ms: 0,
  };
  const failures: string[] = [];
  const fail = (msg: string): void => { if (failures.length < 20) failures.push(msg); };
  const tags = ring.features.rsrcTags;

  /** An fd for slot `s`: a file for file slots, a pipe's read end for the others. */
  const fdFor = (s: number): number => (s < FILE_SLOTS ? fileFds[rand(NFILES)]! : pipes[rand(NPIPES)]![0]);

  const register = (): void => {
    if (rand(4) === 0) {
      ring.files.registerSparse(TABLE, { tags: tags && rand(2) === 0 });
      for (let s = 0; s < TABLE; s++) model.setSync(s, EMPTY);
    } else {
      const list = Array.from({ length: TABLE }, (_, s) => (rand(3) === 0 ? -1 : fdFor(s)));
      ring.files.register(list, { tags: tags && rand(2) === 0 });
      list.forEach((fd, s) => model.setSync(s, fd < 0 ? EMPTY : idOfFd.get(fd)!));
    }
    // Kernel-chosen slots stay among the file slots (an 'alloc' already in
    // flight may still land anywhere: the model allows for it).
    ring.files.setAllocRange(0, FILE_SLOTS);
  };
  register();
  const slots: FixedFile[] = Array.from({ length: TABLE }, (_, s) => ring.files.get(s));
  ring.buffers.register({ count: 16, size: 512 });

  let launched = 0;
  let settled = 0;
  let pipeReads = 0;
  let writeSeq = 0;
  const writesDone: { seq: number; cand: Set<number>; ok: boolean }[] = [];
  const dataOps = new Set<Promise<void>>();

  const settle = (kind: 'reads' | 'writes', f: Flight, p: Promise<number>, check: (n: number) => void,
    after: (ok: boolean) => void): void => {
    launched++;
    let once = 0;
    const done = p.then((res) => {
      once++;
      summary[kind].ok++;
      check(res);
      after(true);
    }, (e: unknown) => {
      once++;
      const code = codeOf(e);
      if (code === 'EBADF') {
        summary[kind].EBADF++;
        if (!f.cand.has(EMPTY)) fail(`${kind} on slot ${f.slot}: EBADF although the slot was never empty meanwhile (${[...f.cand]})`);
      } else if (code === 'ECANCELED') {
        summary[kind].ECANCELED++;
      } else {
        fail(`${kind} on slot ${f.slot} rejected with ${code}: ${(e as Error)?.message}`);
      }
      after(false);
    }).finally(() => {
      if (once !== 1) fail(`${kind} settled ${once} times`);
      settled++;
      model.unwatch(f);
      dataOps.delete(done);
    });
    dataOps.add(done);
  };

  const launchRead = (): void => {
    let s = rand(TABLE);
    if (s >= FILE_SLOTS && pipeReads >= PIPE_READS_MAX) s = rand(FILE_SLOTS);
    const onPipeSlot = s >= FILE_SLOTS;
    if (onPipeSlot) pipeReads++;
    const len = 1 + rand(512);
    const pos = rand(READ_REGION - len + 1);
    const f = model.watch(s);
    let fixed: FixedBuffer | undefined = rand(2) === 0 ? ring.buffers.acquire() : undefined;
    let buf: Uint8Array;
    let p: Promise<number>;
    if (fixed !== undefined) {
      buf = fixed.bytes.subarray(0, len);
      buf.fill(0xee);
      p = ring.readFixed(slots[s]!, fixed, pos, { length: len });
    } else {
      buf = Buffer.alloc(len, 0xee);
      p = ring.read(slots[s]!, buf, pos);
    }
    settle('reads', f, p, (got) => {
      const id = buf[0]!;
      if (got < 1 || got > len) { fail(`read of ${len} on slot ${s} returned ${got}`); return; }
      for (let k = 1; k < got; k++) {
        if (buf[k] !== id) { fail(`read on slot ${s} mixed bytes ${id} and ${buf[k]} at ${k}`); return; }
      }
      if (!f.cand.has(id)) fail(`read on slot ${s} returned data of ${id}, never in the slot meanwhile (${[...f.cand]})`);
      if (isPipe(id)) consumed[id - PIPE_ID] += got;
      else if (got !== len) fail(`read of ${len} from file ${id} returned ${got}`);
    }, () => {
      if (onPipeSlot) pipeReads--;
      if (fixed !== undefined) { ring.buffers.release(fixed); fixed = undefined; }
    });
  };

  const launchWrite = (): void => {
    const s = rand(FILE_SLOTS);
    const seq = writeSeq++;
    const f = model.watch(s);
    let fixed: FixedBuffer | undefined = rand(2) === 0 ? ring.buffers.acquire() : undefined;
    const data = fixed !== undefined ? fixed.bytes.subarray(0, WSIZE) : Buffer.alloc(WSIZE);
    new DataView(data.buffer, data.byteOffset, WSIZE).setUint32(0, seq + 1, true);
    data.copyWithin(4, 0, 4); data.copyWithin(8, 0, 8);
    const pos = SCRATCH + seq * WSIZE;
    const p = fixed !== undefined
      ? ring.writeFixed(slots[s]!, fixed, pos, { length: WSIZE })
      : ring.write(slots[s]!, data, pos);
    settle('writes', f, p, (got) => {
      if (got !== WSIZE) fail(`write of ${WSIZE} returned ${got}`);
    }, (ok) => {
      writesDone.push({ seq, cand: f.cand, ok });
      if (fixed !== undefined) { ring.buffers.release(fixed); fixed = undefined; }
    });
  };

  // ---- the mutating loop -------------------------------------------------
  const mutations = new Set<Promise<void>>();
  const count = (what: string): void => { summary.direct[what] = (summary.direct[what] ?? 0) + 1; };
  const direct = (what: string, p: Promise<unknown>, t: ReturnType<SlotModel['begin']>, hadTable: boolean,
    allowed: string[], landed: (v: unknown) => number | undefined): void => {
    const done = p.then((v) => {
      count(`${what}:ok`);
      model.end(t, landed(v));
    }, (e: unknown) => {
      const code = codeOf(e);
      count(`${what}:${code}`);
      const ok = allowed.includes(code) || (code === 'ERR_URING_NO_FILE_TABLE' && !hadTable);
      if (!ok) fail(`${what} rejected with ${code}: ${(e as Error)?.message}`);
      // A close that found the slot empty tells the same as one that emptied it.
      model.end(t, what === 'close' && code === 'EBADF' ? t.s : undefined);
    }).finally(() => mutations.delete(done));
    mutations.add(done);
  };

  const mutate = (): void => {
    const r = rand(100);
    const s = rand(TABLE);
    const hadTable = ring.files.registered;
    if (r < 30) {
      const len = 1 + rand(Math.min(4, TABLE - s));
      const list = Array.from({ length: len }, (_, k) => {
        const x = rand(4);
        return x === 0 ? -1 : x === 1 ? FileTable.SKIP : fdFor(s + k);
      });
      if (!hadTable) {
        assert.throws(() => ring.files.update(s, list), { code: 'ERR_URING_NO_FILE_TABLE' });
        return;
      }
      const res = ring.files.update(s, list);
      if (res.applied !== len) fail(`update applied ${res.applied} of ${len}: ${res.error?.message}`);
      summary.updates++;
      list.forEach((fd, k) => {
        if (fd === FileTable.SKIP) return;
        model.setSync(s + k, fd === -1 ? EMPTY : idOfFd.get(fd)!);
      });
    } else if (r < 50) {
      if (mutations.size >= MUTATIONS_IN_FLIGHT) return;
      const t = model.begin(s, EMPTY);
      direct('close', ring.files.close(slots[s]!), t, hadTable, ['EBADF', 'ENXIO', 'ECANCELED'], () => s);
    } else if (r < 75) {
      if (mutations.size >= MUTATIONS_IN_FLIGHT) return;
      const k = rand(NFILES);
      const alloc = r >= 70;
      const slot = alloc ? -1 : rand(FILE_SLOTS);
      const t = model.begin(slot, k + 1);
      const p = ring.files.openat(paths[k]!, C.O_RDWR, 0, { slot: alloc ? 'alloc' : slot });
      direct(alloc ? 'openat-alloc' : 'openat', p, t, hadTable,
        alloc ? ['ENFILE', 'ECANCELED'] : ['ENXIO', 'ECANCELED'], (v) => (v as FixedFile).index);
    } else if (r < 83) {
      if (hadTable) ring.files.unregister();
      for (let k = 0; k < TABLE; k++) model.setSync(k, EMPTY);
      summary.reregisters++;
      // Sometimes leave the ring without a table for a while.
      if (rand(8) !== 0) register();
    } else if (r < 88) {
      if (!hadTable) register();
      else {
        // The kernel looks the slot up to cancel by it: an empty slot is EBADF.
        ring.cancelFd(slots[s]!).then(() => count('cancelFd:ok'), (e: unknown) => {
          count(`cancelFd:${codeOf(e)}`);
          if (codeOf(e) !== 'EBADF') fail(`cancelFd rejected with ${codeOf(e)}`);
        });
      }
    } else {
      if (!hadTable) register();
    }
  };

  const feedPipes = (): void => {
    for (let p = 0; p < NPIPES; p++) {
      // written - consumed bounds what the pipe holds: writeSync never blocks.
      if (written[p]! - consumed[p]! < PIPE_FILL) {
        written[p]! += writeSync(pipes[p]![1], Buffer.alloc(512, PIPE_ID + p));
      }
    }
  };

  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  let dataDone = false;
  const dataLoop = async (): Promise<void> => {
    while (launched < iterations) {
      while (dataOps.size < IN_FLIGHT && launched < iterations) {
        if (rand(5) < 3) launchRead(); else launchWrite();
      }
      await (rand(2) === 0 ? tick() : Promise.resolve());
    }
    dataDone = true;
  };
  const mutLoop = async (): Promise<void> => {
    let step = 0;
    while (!dataDone) {
      mutate();
      feedPipes();
      if (gc !== undefined && ++step % 100 === 0) { gc(); summary.gcs++; }
      if (rand(2) === 0) await tick();
    }
  };
  await Promise.all([dataLoop(), mutLoop()]);
  await Promise.all([...mutations]);
  // Reads still waiting on a pipe have nothing more coming: cancel them.
  await ring.cancelAll();
  while (dataOps.size > 0 || mutations.size > 0) await Promise.all([...dataOps, ...mutations]);

  // ---- the end state -----------------------------------------------------
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.equal(settled, launched, 'every operation settled');
  assert.equal(ring.pending, 0, 'nothing in flight');
  // fdinfo lists slots only when it gets the ring's lock at once: retry.
  let k = fdinfo(ring);
  for (let tries = 0; tries < 20 && k.files.size !== ring.files.occupiedCount; tries++) {
    await new Promise((r) => setTimeout(r, 5));
    k = fdinfo(ring);
  }
  assert.equal(ring.files.size, k.userFiles, 'table size: library vs kernel');
  const kernelSlots = [...k.files.keys()].sort((a, b) => a - b);
  const differ = [...new Set([...ring.files.occupied(), ...kernelSlots])]
    .filter((s) => ring.files.has(s) !== k.files.has(s))
    .map((s) => `slot ${s}: library ${ring.files.has(s) ? 'occupied' : 'empty'}, kernel ${k.files.get(s) ?? 'empty'}, model ${[...model.poss[s]!]}`);
  assert.deepEqual(differ, [], `library vs kernel:\n${differ.join('\n')}`);
  for (const [s, desc] of k.files) {
    const id = idOfName.get(desc);
    assert.ok(id !== undefined, `slot ${s} holds an unknown file ${desc}`);
    assert.ok(model.poss[s]!.has(id), `slot ${s} holds ${id}, which the model does not allow (${[...model.poss[s]!]})`);
  }
  summary.finalOccupied = ring.files.occupiedCount;

  // Writes: each resolved one landed in exactly one file, one that was possibly in its slot.
  const contents = paths.map((p) => readFileSync(p));
  for (const w of writesDone) {
    const pos = SCRATCH + w.seq * WSIZE;
    const hits: number[] = [];
    contents.forEach((c, idx) => {
      if (c.length >= pos + WSIZE && c.readUInt32LE(pos) === w.seq + 1 && c.readUInt32LE(pos + 12) === w.seq + 1) hits.push(idx + 1);
    });
    if (w.ok) {
      assert.equal(hits.length, 1, `write ${w.seq} found in files ${hits}`);
      assert.ok(w.cand.has(hits[0]!), `write ${w.seq} landed in file ${hits[0]}, never in its slot (${[...w.cand]})`);
    } else {
      assert.deepEqual(hits, [], `failed write ${w.seq} found in files ${hits}`);
    }
  }

  // Pipes: written = consumed by resolved reads + left over (then a marker comes next).
  for (let p = 0; p < NPIPES; p++) {
    let left = written[p]! - consumed[p]!;
    assert.ok(left >= 0, `pipe ${p}: reads got ${consumed[p]} bytes of ${written[p]} written`);
    const b = Buffer.alloc(4096);
    while (left > 0) {
      const got = readSync(pipes[p]![0], b, 0, Math.min(left, b.length), null);
      assert.ok(b.subarray(0, got).every((x) => x === PIPE_ID + p), `pipe ${p} holds foreign bytes`);
      left -= got;
    }
    writeSync(pipes[p]![1], Buffer.from([1]));
    assert.equal(readSync(pipes[p]![0], b, 0, 4096, null), 1, `pipe ${p} held more than written - consumed`);
    summary.pipeBytes += written[p]!;
  }

  await ring.close();
  for (const fd of fileFds) closeSync(fd);
  for (const [r, w] of pipes) { n.closeFd(r); n.closeFd(w); }
  tmp.cleanup();
  assert.equal(openFdCount(), fdsBefore, 'no fd leaked');
  summary.ms = Math.round(performance.now() - t0);
  return summary;
}

const CHILD = process.env.URING_RACES_CHILD;
if (CHILD !== undefined) {
  const seed = Number(process.env.URING_RACES_SEED ?? ((Math.random() * 2 ** 32) >>> 0));
  race(CHILD, ITERATIONS, seed).then((s) => {
    process.stdout.write(`${JSON.stringify(s)}\n`);
  }, (e: unknown) => {
    process.stderr.write(`${CHILD} ring, seed ${seed}: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 1;
  });
} else {
  /** Runs one shape's race in a child; kills it after `ms`. */
  const runRace = (shape: string, ms: number): Promise<{ code: number | null; hung: boolean; out: string; err: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--expose-gc', __filename], {
        env: { ...process.env, URING_RACES_CHILD: shape }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      let hung = false;
      const dog = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, ms);
      child.on('close', (code) => { clearTimeout(dog); resolve({ code, hung, out, err }); });
    });

  describe('registered file table races', () => {
    for (const shape of allShapes()) {
      it(`${ITERATIONS} reads and writes on ${TABLE} slots race updates, direct opens and closes, cancels and re-registration on a ${shape.name} ring`,
        { skip: !shape.available && `kernel cannot set up ${shape.name}` }, async (t) => {
          const r = await runRace(shape.name, 20_000 + ITERATIONS * 20);
          assert.equal(r.hung, false, `the race did not finish (watchdog): ${r.err}`);
          assert.equal(r.code, 0, r.err);
          const summary = JSON.parse(r.out.trim().split('\n').pop()!) as Summary;
          t.diagnostic(JSON.stringify(summary));
          assert.equal(summary.reads.ok + summary.reads.EBADF + summary.reads.ECANCELED
            + summary.writes.ok + summary.writes.EBADF + summary.writes.ECANCELED, ITERATIONS);
        });
    }
  });
}
