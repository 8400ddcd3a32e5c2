// uring/fs as a drop-in for node:fs/promises where a miss loses data or
// blocks the loop: files whose size is not known up front (FIFOs, procfs,
// files larger than the first reads), AbortSignal between chunks, and the
// event-loop gap of a large readFile. Each case runs the same call through
// node:fs/promises and uring/fs and compares results and error fields, on the
// io_uring backend and again on the node fallback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nfs from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import * as ufs from '../../src/fs/index';
import { openFdCount, tempDir } from '../helpers';
import { ring as engine } from '../../src/fs/backend';
import { Worker } from 'node:worker_threads';
import { bothModes, errorShape, outcome } from './fs-side-by-side';

type Api = typeof nfs;

/** Starts a child that opens `fifo` for writing and writes `chunks` bytes of `fill`, pausing between chunks. */
function fifoWriter(fifo: string, chunks: number[]): Promise<void> {
  const src = `const fs=require('fs');const fd=fs.openSync(${JSON.stringify(fifo)},'w');
    const sizes=${JSON.stringify(chunks)};let k=0;
    const next=()=>{if(k===sizes.length){fs.closeSync(fd);return;}
      const b=Buffer.alloc(sizes[k]);for(let i=0;i<b.length;i++)b[i]=(i*7+k)&255;
      let at=0;while(at<b.length)at+=fs.writeSync(fd,b,at);k++;setTimeout(next,20);};next();`;
  const child = spawn(process.execPath, ['-e', src], { stdio: 'ignore' });
  return new Promise((res) => child.on('exit', () => res()));
}

function mkfifo(p: string): boolean {
  return spawnSync('mkfifo', [p]).status === 0;
}

/** The longest gap between timer ticks (1 ms apart) while `f` runs, and how long it took. */
async function loopGap(f: () => Promise<unknown>): Promise<{ gap: number; ms: number }> {
  let gap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  last = performance.now();
  const t0 = performance.now();
  await f();
  const ms = performance.now() - t0;
  gap = Math.max(gap, performance.now() - last);
  clearInterval(timer);
  return { gap, ms };
}

bothModes('files read to their real end', (tmp) => {
  for (const size of [65535, 65536, 65537, 131072, 131073, 300_000]) {
    it(`readFile of a ${size} B file`, async () => {
      const p = join(tmp.dir, `f${size}`);
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * 13) & 255;
      fs.writeFileSync(p, b);
      await outcome((api) => api.readFile(p));
    });
  }

  it('readFile of a file that grows while it is read returns a prefix of its final bytes, at least as long as it was', async () => {
    const p = join(tmp.dir, 'grows');
    // Starts just under the chain's first read and grows past both of its reads.
    fs.writeFileSync(p, Buffer.alloc(60_000, 0x30));
    const src = `const fs=require('fs');let k=0;const t=setInterval(()=>{
      fs.appendFileSync(${JSON.stringify(p)},Buffer.alloc(1000,65+(k%26)));if(++k===150)clearInterval(t);},1);`;
    const child = spawn(process.execPath, ['-e', src], { stdio: 'ignore' });
    let done = false;
    const exited = new Promise<void>((res) => child.on('exit', () => { done = true; res(); }));
    const got: Buffer[] = [];
    while (!done) {
      const before = fs.statSync(p).size;
      const b = await ufs.readFile(p);
      assert.ok(b.length >= before, `${b.length} bytes read of a file of ${before}`);
      got.push(b);
    }
    await exited;
    got.push(await ufs.readFile(p));
    const final = fs.readFileSync(p);
    assert.equal(final.length, 210_000);
    for (const b of got) assert.ok(final.subarray(0, b.length).equals(b));
    assert.equal(got[got.length - 1]!.length, final.length);
  });

  it('readFile of a FIFO whose writer writes three times returns every byte', async (t) => {
    const results: Buffer[] = [];
    for (const api of [ufs as unknown as Api, nfs]) {
      const f = join(tmp.dir, `fifo${results.length}`);
      if (!mkfifo(f)) { t.skip('mkfifo unavailable'); return; }
      const done = fifoWriter(f, [100_000, 70_000, 30_000]);
      results.push(await api.readFile(f) as Buffer);
      await done;
    }
    assert.equal(results[0]!.length, 200_000);
    assert.ok(results[0]!.equals(results[1]!));
  });

  it('FileHandle.readFile of a FIFO returns every byte', async (t) => {
    const results: Buffer[] = [];
    for (const api of [ufs as unknown as Api, nfs]) {
      const f = join(tmp.dir, `hfifo${results.length}`);
      if (!mkfifo(f)) { t.skip('mkfifo unavailable'); return; }
      const done = fifoWriter(f, [50_000, 150_000]);
      const h = await api.open(f);
      results.push(await h.readFile());
      await h.close();
      await done;
    }
    assert.equal(results[0]!.length, 200_000);
    assert.ok(results[0]!.equals(results[1]!));
  });

  it('readFile of procfs files (size 0 in stat) returns all of them', async () => {
    await outcome((api) => api.readFile('/proc/kallsyms'));
    await outcome((api) => api.readFile('/proc/self/mountinfo', 'utf8'));
    const maps = await ufs.readFile('/proc/self/maps', 'utf8');
    assert.ok(maps.length > 4096, `maps is ${maps.length} chars`);
    assert.ok(maps.endsWith('\n'));
    const h = await ufs.open('/proc/kallsyms');
    const viaHandle = await h.readFile() as Buffer;
    await h.close();
    assert.ok(viaHandle.equals(await nfs.readFile('/proc/kallsyms') as Buffer));
  });

  it('readFile of a small file returns a Buffer that owns its memory', async () => {
    const p = join(tmp.dir, 'tiny');
    fs.writeFileSync(p, 'tiny file');
    for (const api of [ufs as unknown as Api, nfs]) {
      const b = await api.readFile(p) as Buffer;
      assert.equal(b.buffer.byteLength, b.length);
      assert.equal(b.byteOffset, 0);
    }
    const h = await ufs.open(p);
    const b = await h.readFile() as Buffer;
    await h.close();
    assert.equal(b.buffer.byteLength, b.length);
  });
});

bothModes('AbortSignal is honoured between chunks', (tmp) => {
  const big = Buffer.alloc(8 << 20, 0x61);
  const abortSoon = (): AbortSignal => {
    const ac = new AbortController();
    process.nextTick(() => ac.abort());
    return ac.signal;
  };
  it('readFile with a signal aborted on the next tick rejects with AbortError', async () => {
    const p = join(tmp.dir, 'r');
    fs.writeFileSync(p, big);
    await outcome((api) => api.readFile(p, { signal: abortSoon() }));
    await outcome((api) => api.readFile(p, { signal: AbortSignal.abort() }));
  });
  it('writeFile with a signal aborted on the next tick rejects and writes no data', async () => {
    await outcome((api, d) => api.writeFile(join(d, 'w'), big, { signal: abortSoon() }), tmp);
    await outcome((api, d) => api.writeFile(join(d, 'w2'), 'text', { signal: abortSoon() }), tmp);
  });
  it('appendFile with a signal aborted on the next tick rejects and appends nothing', async () => {
    await outcome((api, d) => { fs.writeFileSync(join(d, 'a'), 'x'); return api.appendFile(join(d, 'a'), big, { signal: abortSoon() } as object); }, tmp);
  });
  it('FileHandle.readFile/writeFile with a signal aborted on the next tick', async () => {
    await outcome(async (api, d) => {
      fs.writeFileSync(join(d, 'h'), big);
      const h = await api.open(join(d, 'h'), 'r+');
      const out: unknown[] = [];
      try {
        for (const f of [() => h.readFile({ signal: abortSoon() }), () => h.writeFile(big, { signal: abortSoon() } as Parameters<typeof h.writeFile>[1])]) {
          try { await f(); out.push('ok'); } catch (e) { out.push(errorShape(e)); }
        }
      } finally { await h.close(); }
      return out;
    }, tmp);
  });
  it('an AbortError prints and carries fields as Node\'s', async () => {
    const errs: unknown[] = [];
    for (const api of [ufs as unknown as Api, nfs]) {
      try { await api.readFile(join(tmp.dir, 'r'), { signal: AbortSignal.abort('why') }); } catch (e) { errs.push(e); }
    }
    const [u, n] = errs as (Error & { code: string; cause: unknown })[];
    assert.deepEqual(Object.keys(u!), Object.keys(n!));
    assert.equal(u!.name, n!.name);
    assert.equal(u!.cause, n!.cause);
    assert.equal(Object.prototype.toString.call(u), Object.prototype.toString.call(n));
  });
});

describe('a large readFile keeps the event loop responsive (io_uring backend)', () => {
  const tmp = tempDir('uring-fs-gap-');
  before(async () => { await ufs._setBackend('auto'); });
  after(() => tmp.cleanup());
  it('the longest loop gap during a 128 MiB readFile/writeFile is within 2x Node\'s', async () => {
    const p = join(tmp.dir, 'big');
    const data = Buffer.alloc(128 << 20, 0x62);
    fs.writeFileSync(p, data);
    await nfs.readFile(p); // page cache
    // Best of three interleaved rounds each: the machine may be shared.
    const best = { nr: Infinity, ur: Infinity, nw: Infinity, uw: Infinity };
    for (let k = 0; k < 3; k++) {
      best.nr = Math.min(best.nr, (await loopGap(() => nfs.readFile(p))).gap);
      best.ur = Math.min(best.ur, (await loopGap(() => ufs.readFile(p))).gap);
      best.nw = Math.min(best.nw, (await loopGap(() => nfs.writeFile(join(tmp.dir, 'w1'), data))).gap);
      best.uw = Math.min(best.uw, (await loopGap(() => ufs.writeFile(join(tmp.dir, 'w2'), data))).gap);
    }
    // 5 ms of slack: a 1 ms timer's own jitter and the scheduler of a
    // shared 2-core machine (before this change: 103 ms against 8 ms).
    assert.ok(best.ur <= 2 * best.nr + 5, `readFile gap: uring/fs ${best.ur.toFixed(1)} ms, node ${best.nr.toFixed(1)} ms`);
    assert.ok(best.uw <= 2 * best.nw + 5, `writeFile gap: uring/fs ${best.uw.toFixed(1)} ms, node ${best.nw.toFixed(1)} ms`);
    assert.ok((await ufs.readFile(p) as Buffer).equals(data));
    assert.ok(fs.readFileSync(join(tmp.dir, 'w2')).equals(data));
    for (const f of ['w1', 'w2', 'big']) fs.rmSync(join(tmp.dir, f));
  });
});


const FS_MODULE = join(__dirname, '..', '..', 'src', 'fs', 'index.js');
const settleFds = async (target: number): Promise<number> => {
  for (let k = 0; k < 50 && openFdCount() > target; k++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
  return openFdCount();
};

bothModes('FileHandles end with their reachability and their thread', (tmp) => {
  it('50 FileHandles dropped without close() are closed when collected, with Node\'s warnings', async () => {
    const p = join(tmp.dir, 'dropped');
    fs.writeFileSync(p, 'x');
    const seen: { name: string; code?: string; message: string }[] = [];
    const onWarning = (w: Error & { code?: string }): void => { seen.push({ name: w.name, code: w.code, message: w.message.replace(/\d+/, 'N') }); };
    process.on('warning', onWarning);
    try {
      const out: unknown[] = [];
      for (const api of [ufs as unknown as Api, nfs]) {
        seen.length = 0;
        const base = openFdCount();
        await (async () => { for (let k = 0; k < 50; k++) await api.open(p); })();
        assert.ok(openFdCount() >= base + 50);
        const left = await settleFds(base) - base;
        await new Promise((r) => setImmediate(r));
        out.push({ left, closing: seen.filter((w) => w.message === 'Closing file descriptor N on garbage collection' && w.name === 'Warning').length });
      }
      assert.deepEqual(out[0], out[1]);
      assert.deepEqual(out[0], { left: 0, closing: 50 });
      if (ufs.backend.kind === 'io_uring') assert.equal(engine()!.slots.used, 0);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a terminated worker holding 100 FileHandles leaves no fd open', async () => {
    const p = join(tmp.dir, 'held');
    fs.writeFileSync(p, 'x');
    const left: number[] = [];
    for (const mod of [FS_MODULE, 'node:fs/promises']) {
      const code = `
        const { parentPort, workerData } = require('node:worker_threads');
        const fs = require(workerData.mod);
        globalThis.held = [];
        (async () => {
          for (let k = 0; k < 100; k++) globalThis.held.push(await fs.open(workerData.p));
          await fs.readFile(workerData.p);
          parentPort.postMessage('ready');
          setInterval(() => {}, 1000);
        })();`;
      const base = openFdCount();
      const env = ufs.backend.kind === 'node' ? { ...process.env, URING_DISABLE: '1' } : process.env;
      const w = new Worker(code, { eval: true, workerData: { mod, p }, env });
      await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
      assert.ok(openFdCount() >= base + 100);
      await w.terminate();
      left.push(await settleFds(base) - base);
    }
    assert.deepEqual(left, [0, 0]);
  });
});

/** Each argument list through `call` on a fresh handle of a 10-byte file: results or errors, and the file after. */
function argMatrix(flags: string, lists: unknown[][], call: (h: Awaited<ReturnType<Api['open']>>, args: unknown[]) => Promise<unknown>) {
  return (api: Api, d: string): Promise<unknown> => (async () => {
    const p = join(d, 'f');
    const out: unknown[] = [];
    for (const args of lists) {
      fs.writeFileSync(p, 'abcdefghij');
      const h = await api.open(p, flags);
      try {
        await h.read(Buffer.alloc(2), 0, 2, null); // the file position is now 2
        try { out.push(await call(h, args)); } catch (e) { out.push(errorShape(e, d)); }
      } finally { await h.close(); }
      out.push(fs.readFileSync(p, 'latin1'));
    }
    return out;
  })();
}

bothModes('FileHandle read and write take their arguments as the running Node does', () => {
  it('read: positions (bigint, negative, fractional, other types), offsets and lengths', async () => {
    const lists: unknown[][] = [
      [0, 3, 5n], [0, 3, -2], [0, 3, 1.5], [0, 3, '2'], [0, 3, NaN], [0, 3, 2 ** 53], [0, 3, -1], [0, 3, null],
      [0, 3, undefined], [0, 3, true], [0, 3, {}], [0, 3, -1n], [0, 3, 2n ** 63n], [0, 3, 0n],
      [NaN, 3, 0], [1.5, 1, 0], ['1', 1, 0], [-1, 1, 0], [0, -1, 0], [0, 9, 0], [8, 1, 0], [0, 0, 0], [null, null, null],
      [{ offset: 1, length: 2, position: 4 }], [{ offset: 1 }], [{}], [null], [undefined, 2],
    ];
    await outcome(argMatrix('r', lists, (h, a) => h.read(Buffer.alloc(8), ...a as [number, number, number])));
  });
  it('read: the options forms, null buffers and empty buffers', async () => {
    const lists: unknown[][] = [
      [{ buffer: Buffer.alloc(4), position: 1 }], [{ buffer: null }], [{ buffer: 5 }], [{ buffer: Buffer.alloc(4), offset: 1, length: 2 }],
      [null], [[]], [5], ['str'], [() => 0], [Buffer.alloc(0)], [Buffer.alloc(0), 0, 0], [Buffer.alloc(0), 0, 1],
      [{ buffer: Buffer.alloc(4), length: 0 }], [new Uint16Array(2)], [new DataView(new ArrayBuffer(4)), 1, 2, 0],
    ];
    await outcome(argMatrix('r', lists, async (h, a) => {
      const r = await (h.read as (...x: unknown[]) => Promise<{ bytesRead: number; buffer: ArrayBufferView }>)(...a);
      return [r.bytesRead, r.buffer.byteLength, Buffer.from(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength).toString('latin1')];
    }));
  });
  it('write of a buffer: offsets, lengths (NaN, fractional, negative) and positions', async () => {
    const lists: unknown[][] = [
      [0, NaN], [0, 1.5], [0, -1], [0, 5], [0, 4, 0], [1, 2, 1], [5, 0], [6, 0], [NaN], [1.5], ['1'], [0, '2', 0], [0, 2, 5n],
      [0, 2, -2], [0, 2, 1.5], [0, 2, null], [null, 2, 0], [null], [{ offset: 1, length: 2, position: 0 }], [{}], [undefined, 3],
      [0, 2 ** 31], [0, 3, '1'],
    ];
    await outcome(argMatrix('r+', lists, (h, a) => (h.write as (...x: unknown[]) => Promise<unknown>)(Buffer.from('WXYZ'), ...a)));
  });
  it('write of a string: position, then encoding, as Node orders them', async () => {
    const lists: unknown[][] = [
      ['abc', 0, 'hex'], ['abcd', 0, 'hex'], ['abc', 0, 'bogus'], ['abc', 0, 'HEX'], ['zz', 0, 'hex'], ['abc', 1], ['abc', null, 'latin1'],
      ['abc', 'utf8'], ['abc', -2], ['abc', 1.5], ['abc', 5n], ['abc', 0, 5], ['é', 0, 'latin1'], ['aGk=', 0, 'base64'],
      ['abc', 0, 'UTF-16LE'], ['abc', 0, 'buffer'], [''], [5], [null], [{}], [[1, 2]],
    ];
    await outcome(argMatrix('r+', lists, (h, a) => (h.write as (...x: unknown[]) => Promise<unknown>)(...a)));
  });
});

bothModes('paths: bytes, symlink types and recursive mkdir as Node', () => {
  const bytesPath = (d: string, ...rest: (string | number[])[]): Buffer =>
    Buffer.concat([Buffer.from(d), ...rest.map((r) => (typeof r === 'string' ? Buffer.from(r) : Buffer.from(r)))]);
  const names = (d: string): string[] => fs.readdirSync(d, { encoding: 'buffer', recursive: true } as never)
    .map((b) => (b as unknown as Buffer).toString('hex')).sort();
  it('Buffer paths with non-UTF-8 bytes reach the kernel byte for byte', async () => {
    await outcome(async (api, d) => {
      const out: unknown[] = [];
      out.push(await api.mkdir(bytesPath(d, '/r', [0xff, 0xfe], '/sub'), { recursive: true }));
      await api.writeFile(bytesPath(d, '/r', [0xff, 0xfe], '/f', [0xc3]), 'x');
      out.push((await api.readFile(bytesPath(d, '/r', [0xff, 0xfe], '/f', [0xc3]))).toString());
      out.push((await api.stat(bytesPath(d, '/r', [0xff, 0xfe]))).isDirectory());
      await api.mkdir(bytesPath(d, '/m', [0x80]));
      await api.rename(bytesPath(d, '/m', [0x80]), bytesPath(d, '/n', [0x81]));
      await api.symlink('t', bytesPath(d, '/l', [0xfa]));
      out.push(names(d));
      return out;
    });
  });
  it('readFile of long and multibyte paths, up to and past PATH_MAX, as Node', async () => {
    // Components of 200 bytes; `fill` UTF-16 units each (1 to 4 bytes apiece in UTF-8).
    const deep = (d: string, fill: string, bytes: number): string => {
      const part = fill.repeat(Math.floor(200 / Buffer.byteLength(fill)));
      let p = d;
      while (Buffer.byteLength(p) + Buffer.byteLength(part) + 8 < bytes) p = join(p, part);
      return p;
    };
    for (const [fill, bytes] of [['a', 1500], ['é', 1500], ['€', 3000], ['😀', 4000], ['a', 4090], ['a', 5000]] as const) {
      await outcome(async (api, d) => {
        const dir = deep(d, fill, bytes);
        const out: unknown[] = [];
        try { fs.mkdirSync(dir, { recursive: true }); } catch (e) { out.push((e as Error & { code: string }).code); }
        const p = `${dir}/f`;
        try { fs.writeFileSync(p, `${fill}:${bytes}`); } catch (e) { out.push((e as Error & { code: string }).code); }
        out.push(Buffer.byteLength(p) >= 4096, await api.readFile(p, 'utf8'));
        // A short path after a long one, through the same pooled chain.
        fs.writeFileSync(join(d, 's'), 'short');
        out.push(await api.readFile(join(d, 's'), 'utf8'));
        return out;
      });
    }
  });
  it('symlink refuses an unknown type string and ignores other types', async () => {
    for (const type of ['bogus', '', 'DIR', 'dir', 'file', 'junction', 5, null, undefined]) {
      await outcome((api, d) => api.symlink('target', join(d, 'l'), type as string));
    }
  });
  it('recursive mkdir through and onto dangling symlinks, files and links to files', async () => {
    const setup = (d: string): void => {
      fs.symlinkSync(join(d, 'nowhere'), join(d, 'dang'));
      fs.writeFileSync(join(d, 'file'), '');
      fs.symlinkSync(join(d, 'file'), join(d, 'tofile'));
      fs.mkdirSync(join(d, 'dir'));
      fs.symlinkSync(join(d, 'dir'), join(d, 'todir'));
    };
    for (const p of ['dang', 'dang/sub', 'dang/sub/deeper', 'tofile', 'tofile/sub', 'file/x/y', 'todir/a/b', 'dir', 'dir/', 'new/a/', 'todir']) {
      await outcome((api, d) => { setup(d); return api.mkdir(join(d, p), { recursive: true }); });
    }
  });
});

bothModes('FileHandle calls validate and fail as Node\'s', () => {
  it('readFile/writeFile/appendFile options and data, stat(null), readv([]) and writev', async () => {
    const lists: [string, unknown[]][] = [
      ['readFile', ['bogus']], ['readFile', [5]], ['readFile', [{ encoding: 'buffer' }]], ['readFile', ['buffer']],
      ['readFile', [{ encoding: 'bogus' }]], ['readFile', [null]], ['readFile', [{ signal: 5 }]], ['readFile', ['hex']],
      ['readFile', [true]], ['readFile', [{ encoding: null }]], ['readFile', [() => 0]], ['readFile', [{ signal: { aborted: false } }]],
      ['writeFile', ['x', { encoding: 'bogus' }]], ['writeFile', ['x', { signal: 5 }]], ['writeFile', [[{}]]], ['writeFile', [[null]]],
      ['writeFile', [5]], ['writeFile', ['x', 5]], ['writeFile', ['x', 'bogus']], ['writeFile', [['a', Buffer.from('b')]]],
      ['writeFile', ['x', { encoding: 'buffer' }]], ['writeFile', [{}]], ['writeFile', [null]], ['writeFile', [new Uint8Array([65])]],
      ['writeFile', ['ff', 'hex']], ['appendFile', ['x', { encoding: 'bogus' }]], ['appendFile', [5]], ['appendFile', ['y', 'latin1']],
      ['stat', [null]], ['stat', [5]], ['readv', [[]]], ['readv', [[Buffer.alloc(2)], 5n]], ['writev', [[]]], ['writev', [[5]]], ['readv', [5]],
    ];
    await outcome(async (api, d) => {
      const p = join(d, 'f');
      const out: unknown[] = [];
      for (const [method, args] of lists) {
        fs.writeFileSync(p, 'abc');
        const h = await api.open(p, 'r+');
        try {
          const r = await (h as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
          out.push(r instanceof fs.Stats ? 'Stats' : r);
        } catch (e) { out.push(errorShape(e, d)); } finally { await h.close(); }
        out.push(fs.readFileSync(p, 'latin1'));
      }
      return out;
    });
  });

  it('errors carry the awaiting caller\'s frame and util.inspect() prints them as Node\'s', async () => {
    const p = join(tmpdir(), `uring-missing-${process.pid}`);
    const printed: string[][] = [];
    for (const api of [ufs as unknown as Api, nfs]) {
      const lines: string[] = [];
      const h = await api.open(tmpdir());
      async function callerOfRead(): Promise<void> { await h.read(Buffer.alloc(4), 0, 4, 0); }
      async function callerOfReadFile(): Promise<void> { await api.readFile(p); }
      async function callerOfReadFileDir(): Promise<void> { await api.readFile(tmpdir()); }
      for (const f of [callerOfRead, callerOfReadFile, callerOfReadFileDir]) {
        try { await f(); } catch (e) {
          const shown = inspect(e);
          assert.match(shown, new RegExp(`at async ${f.name} `), shown);
          // The first line and the fields block, without the frames.
          lines.push(shown.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n'));
        }
      }
      await h.close();
      const ro = await api.open(join(tmpdir(), `uring-ro-${process.pid}`), 'w');
      await ro.close();
      const r = await api.open(join(tmpdir(), `uring-ro-${process.pid}`), 'r');
      async function callerOfWrite(): Promise<void> { await r.write('x'); }
      try { await callerOfWrite(); } catch (e) {
        assert.match((e as Error).stack!, /at async callerOfWrite /);
        lines.push(inspect(e).split('\n').filter((l) => !/^\s+at /.test(l)).join('\n'));
      }
      await r.close();
      fs.rmSync(join(tmpdir(), `uring-ro-${process.pid}`));
      printed.push(lines);
    }
    assert.deepEqual(printed[0], printed[1]);
  });
});

bothModes('FileHandle streams, events and async id as Node\'s', () => {
  it('readableWebStream: locked after one, chunk types, closed and closing handles; close emits during close()', async () => {
    await outcome(async (api, d) => {
      const p = join(d, 'ws');
      fs.writeFileSync(p, Buffer.alloc(40000, 97));
      const shape = (e: unknown): unknown => errorShape(e, d);
      const out: unknown[] = [];
      type WebHandle = { readableWebStream(o?: unknown): AsyncIterable<ArrayBuffer | Uint8Array>; getAsyncId(): number };
      const h = await api.open(p);
      const s = (h as unknown as WebHandle).readableWebStream();
      try { (h as unknown as WebHandle).readableWebStream(); out.push('second ok'); } catch (e) { out.push(shape(e)); }
      const types = new Set<string>();
      let n = 0;
      for await (const c of s) { types.add(Object.prototype.toString.call(c)); n += c.byteLength; }
      out.push([...types], n, (await h.read(Buffer.alloc(4), 0, 4, 0)).bytesRead);
      const events: string[] = [];
      (h as unknown as NodeJS.EventEmitter).on('close', () => events.push('close event'));
      const closing = h.close();
      events.push('close() returned');
      try { (h as unknown as WebHandle).readableWebStream(); } catch (e) { out.push(shape(e)); }
      await closing;
      events.push('close() settled');
      out.push(events);
      const h2 = await api.open(p);
      try { (h2 as unknown as WebHandle).readableWebStream({ type: 5 }); } catch (e) { out.push(shape(e)); }
      await h2.close();
      const h3 = await api.open(p);
      const bytes = new Set<string>();
      for await (const c of (h3 as unknown as WebHandle).readableWebStream({ type: 'bytes' })) bytes.add(Object.prototype.toString.call(c));
      out.push([...bytes], typeof (h3 as unknown as WebHandle).getAsyncId());
      out.push((h3 as unknown as WebHandle).getAsyncId() === (h3 as unknown as WebHandle).getAsyncId());
      await h3.close();
      return out;
    });
  });
});

bothModes('copyFile on the ring as libuv\'s copyfile', () => {
  const mid = Buffer.alloc(3 << 20);
  for (let i = 0; i < mid.length; i += 4096) mid[i] = (i >> 12) & 255;
  const cases: [string, (d: string) => void, (api: Api, d: string) => Promise<unknown>][] = [
    ['a small file', (d) => fs.writeFileSync(join(d, 'a'), 'copy me'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'))],
    ['an empty file', (d) => fs.writeFileSync(join(d, 'a'), ''), (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'))],
    ['a 3 MiB file over a longer one', (d) => { fs.writeFileSync(join(d, 'a'), mid); fs.writeFileSync(join(d, 'b'), Buffer.alloc(4 << 20, 1)); }, (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'))],
    ['the mode, exactly', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.chmodSync(join(d, 'a'), 0o777); }, (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'))],
    ['a missing source', () => undefined, (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'))],
    ['into a missing directory', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'no/b'))],
    ['COPYFILE_EXCL onto an existing file', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.writeFileSync(join(d, 'b'), 'keep'); }, (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'), fs.constants.COPYFILE_EXCL)],
    ['COPYFILE_EXCL to a new file', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'), fs.constants.COPYFILE_EXCL)],
    ['a file onto itself', (d) => fs.writeFileSync(join(d, 'a'), 'same'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'a'))],
    ['a directory', (d) => fs.mkdirSync(join(d, 's')), (api, d) => api.copyFile(join(d, 's'), join(d, 'b'))],
    ['onto a directory', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.mkdirSync(join(d, 's')); }, (api, d) => api.copyFile(join(d, 'a'), join(d, 's'))],
    ['with a bad mode', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'), 99)],
    ['COPYFILE_FICLONE', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.copyFile(join(d, 'a'), join(d, 'b'), fs.constants.COPYFILE_FICLONE)],
  ];
  for (const [name, setup, call] of cases) {
    it(`copyFile of ${name}`, async () => {
      await outcome((api, d) => { setup(d); return call(api, d); });
    });
  }
  it('copyFile and cp of a small file run on the ring', async (t) => {
    const e = engine();
    if (e === undefined) { t.skip('node backend'); return; }
    const d = fs.mkdtempSync(join(tmpdir(), 'uring-cp-'));
    fs.writeFileSync(join(d, 'a'), 'ring');
    const before = e.ring.stats.submitted;
    await ufs.copyFile(join(d, 'a'), join(d, 'b'));
    assert.ok(e.ring.stats.submitted - before >= 6);
    assert.equal(fs.readFileSync(join(d, 'b'), 'utf8'), 'ring');
    const beforeCp = e.ring.stats.submitted;
    await ufs.cp(join(d, 'a'), join(d, 'c'));
    assert.ok(e.ring.stats.submitted - beforeCp >= 8, 'cp of a regular file runs on the ring');
    assert.equal(fs.readFileSync(join(d, 'c'), 'utf8'), 'ring');
    fs.rmSync(d, { recursive: true });
  });
});

bothModes('cp of a regular file on the ring as Node\'s cp', () => {
  const cases: [string, (d: string) => void, (api: Api, d: string) => Promise<unknown>][] = [
    ['to a new file', (d) => fs.writeFileSync(join(d, 'a'), 'cp me'), (api, d) => api.cp(join(d, 'a'), join(d, 'b'))],
    ['over an existing longer file, mode kept', (d) => { fs.writeFileSync(join(d, 'a'), 'short'); fs.chmodSync(join(d, 'a'), 0o751); fs.writeFileSync(join(d, 'b'), 'a much longer old file'); }, (api, d) => api.cp(join(d, 'a'), join(d, 'b'))],
    ['into a missing directory', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.cp(join(d, 'a'), join(d, 'x/y/b'))],
    ['onto itself', (d) => fs.writeFileSync(join(d, 'a'), 'x'), (api, d) => api.cp(join(d, 'a'), join(d, 'a'))],
    ['onto a directory', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.mkdirSync(join(d, 's')); }, (api, d) => api.cp(join(d, 'a'), join(d, 's'))],
    ['of a missing file', () => undefined, (api, d) => api.cp(join(d, 'a'), join(d, 'b'))],
    ['of a directory without recursive', (d) => fs.mkdirSync(join(d, 's')), (api, d) => api.cp(join(d, 's'), join(d, 't'))],
    ['of a symlink', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.symlinkSync(join(d, 'a'), join(d, 'l')); }, (api, d) => api.cp(join(d, 'l'), join(d, 'b'))],
    ['with errorOnExist and force off', (d) => { fs.writeFileSync(join(d, 'a'), 'x'); fs.writeFileSync(join(d, 'b'), 'y'); }, (api, d) => api.cp(join(d, 'a'), join(d, 'b'), { force: false, errorOnExist: true })],
  ];
  for (const [name, setup, call] of cases) {
    it(`cp ${name}`, async () => {
      await outcome((api, d) => { setup(d); return call(api, d); });
    });
  }
});
