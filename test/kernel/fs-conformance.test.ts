// uring/fs against node:fs/promises: each case runs the same call with both
// modules on identical fresh directories and compares results, errors (code,
// errno, syscall, path, dest, message) and the directory left behind. The
// suite runs on the io_uring backend and again on the node fallback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nfs from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as ufs from '../../src/fs/index';
import { tempDir } from '../helpers';
import { Api, errorShape as normErr, norm, tree } from './fs-side-by-side';

interface Case {
  name: string;
  setup?(dir: string): void;
  call(api: Api, dir: string): Promise<unknown>;
}

function file(dir: string, name: string, data: string | Buffer = 'hello'): string {
  const p = join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}

async function outcome(api: Api, c: Case, dir: string): Promise<unknown> {
  c.setup?.(dir);
  let r: unknown;
  try {
    r = { value: norm(await c.call(api, dir), dir) };
  } catch (e) {
    r = normErr(e, dir);
  }
  return { r, tree: tree(dir) };
}

const big = Buffer.alloc(200_000);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;

const CASES: Case[] = [
  { name: 'readFile of a small file as a Buffer', setup: (d) => file(d, 'a', 'small file'), call: (f, d) => f.readFile(join(d, 'a')) },
  { name: 'readFile with an encoding string', setup: (d) => file(d, 'a', 'héllo'), call: (f, d) => f.readFile(join(d, 'a'), 'utf8') },
  { name: 'readFile with { encoding: "base64" }', setup: (d) => file(d, 'a', 'xyz'), call: (f, d) => f.readFile(join(d, 'a'), { encoding: 'base64' }) },
  // Binary bytes (invalid UTF-8 among them) through every decoder, from the chain's scratch memory.
  ...(['utf8', 'latin1', 'hex', 'utf16le', 'ascii', 'base64url'] as const).map((enc): Case => ({
    name: `readFile of binary bytes as ${enc}`, setup: (d) => file(d, 'a', big.subarray(0, 4097)), call: (f, d) => f.readFile(join(d, 'a'), enc),
  })),
  { name: 'readFile of an empty file as utf8', setup: (d) => file(d, 'a', ''), call: (f, d) => f.readFile(join(d, 'a'), 'utf8') },
  { name: 'readFile with { encoding: "buffer" }', setup: (d) => file(d, 'a'), call: (f, d) => f.readFile(join(d, 'a'), { encoding: 'buffer' as BufferEncoding }) },
  { name: 'writeFile with { encoding: "buffer" }', call: (f, d) => f.writeFile(join(d, 'w'), 'x', { encoding: 'buffer' as BufferEncoding }) },
  { name: 'readFile of a missing path with a lone surrogate', call: (f, d) => f.readFile(join(d, 'x\ud800y')) },
  {
    // Node reads the options before the path: a getter that rewrites a Buffer path changes what is opened.
    name: 'readFile whose options getter rewrites the Buffer path', setup: (d) => file(d, 'a', 'A'),
    call: (f, d) => {
      const p = Buffer.from(join(d, 'a'));
      return f.readFile(p, { get encoding() { p[p.length - 1] = 0x62; return undefined; } } as never);
    },
  },
  { name: 'readFile of an empty file', setup: (d) => file(d, 'a', ''), call: (f, d) => f.readFile(join(d, 'a')) },
  { name: 'readFile of exactly 64 KiB', setup: (d) => file(d, 'a', big.subarray(0, 65536)), call: (f, d) => f.readFile(join(d, 'a')) },
  { name: 'readFile of a 200 KB file', setup: (d) => file(d, 'a', big), call: (f, d) => f.readFile(join(d, 'a')) },
  { name: 'readFile of a missing file fails ENOENT open', call: (f, d) => f.readFile(join(d, 'missing')) },
  { name: 'readFile of a directory fails EISDIR read', call: (f, d) => f.readFile(d) },
  { name: 'readFile through a missing directory fails ENOENT', call: (f, d) => f.readFile(join(d, 'no/such')) },
  { name: 'readFile through a file fails ENOTDIR', setup: (d) => file(d, 'a'), call: (f, d) => f.readFile(join(d, 'a/b')) },
  { name: 'readFile with a Buffer path', setup: (d) => file(d, 'a', 'buf'), call: (f, d) => f.readFile(Buffer.from(join(d, 'a'))) },
  { name: 'readFile with a file: URL', setup: (d) => file(d, 'a', 'url'), call: (f, d) => f.readFile(pathToFileURL(join(d, 'a'))) },
  { name: 'readFile with a file: URL that is missing', call: (f, d) => f.readFile(pathToFileURL(join(d, 'nope'))) },
  { name: 'readFile with a bad encoding', setup: (d) => file(d, 'a'), call: (f, d) => f.readFile(join(d, 'a'), { encoding: 'nope' as BufferEncoding }) },
  { name: 'readFile with a path containing NUL', call: (f, d) => f.readFile(join(d, 'a\u0000b')) },
  { name: 'readFile of a number path', call: (f) => f.readFile(12345.5 as unknown as string) },
  { name: 'readFile with an aborted signal', setup: (d) => file(d, 'a'), call: (f, d) => f.readFile(join(d, 'a'), { signal: AbortSignal.abort() }).catch((e) => { throw Object.assign(new Error(e.message), { name: e.name, code: e.code }); }) },
  { name: 'writeFile creates a file from a string', call: (f, d) => f.writeFile(join(d, 'w'), 'written') },
  { name: 'writeFile replaces a file with a Buffer and a mode', setup: (d) => file(d, 'w', 'long old content'), call: (f, d) => f.writeFile(join(d, 'w'), Buffer.from('new'), { mode: 0o600 }) },
  { name: 'writeFile with flag "wx" on an existing file fails EEXIST', setup: (d) => file(d, 'w'), call: (f, d) => f.writeFile(join(d, 'w'), 'x', { flag: 'wx' }) },
  { name: 'writeFile with mode 0o640 on a new file', call: (f, d) => f.writeFile(join(d, 'm'), 'x', { mode: 0o640 }) },
  { name: 'writeFile with a Uint16Array', call: (f, d) => f.writeFile(join(d, 'w'), new Uint16Array([1, 2, 3])) },
  { name: 'writeFile with an iterable', call: (f, d) => f.writeFile(join(d, 'w'), ['a', 'b', 'c']) },
  { name: 'writeFile into a missing directory fails ENOENT', call: (f, d) => f.writeFile(join(d, 'no/w'), 'x') },
  { name: 'writeFile with "latin1" encoding', call: (f, d) => f.writeFile(join(d, 'w'), 'é', 'latin1') },
  { name: 'appendFile appends', setup: (d) => file(d, 'a', 'one'), call: (f, d) => f.appendFile(join(d, 'a'), '-two') },
  { name: 'appendFile creates', call: (f, d) => f.appendFile(join(d, 'a'), 'new') },
  { name: 'stat of a file', setup: (d) => file(d, 'a'), call: (f, d) => f.stat(join(d, 'a')) },
  { name: 'stat of a directory', call: (f, d) => f.stat(d) },
  { name: 'stat of a missing path fails ENOENT stat', call: (f, d) => f.stat(join(d, 'x')) },
  { name: 'stat follows a symlink; lstat does not', setup: (d) => { file(d, 'a'); fs.symlinkSync(join(d, 'a'), join(d, 'l')); }, call: async (f, d) => [await f.stat(join(d, 'l')), await f.lstat(join(d, 'l'))] },
  { name: 'lstat of a missing path fails ENOENT lstat', call: (f, d) => f.lstat(join(d, 'x')) },
  { name: 'stat through a file fails ENOTDIR', setup: (d) => file(d, 'a'), call: (f, d) => f.stat(join(d, 'a/b')) },
  { name: 'stat with { bigint: true }', setup: (d) => file(d, 'a'), call: async (f, d) => (await f.stat(join(d, 'a'), { bigint: true })).size },
  { name: 'unlink removes a file', setup: (d) => file(d, 'a'), call: (f, d) => f.unlink(join(d, 'a')) },
  { name: 'unlink of a missing file fails ENOENT unlink', call: (f, d) => f.unlink(join(d, 'a')) },
  { name: 'unlink of a directory fails EISDIR unlink', setup: (d) => fs.mkdirSync(join(d, 'sub')), call: (f, d) => f.unlink(join(d, 'sub')) },
  { name: 'rename moves a file', setup: (d) => file(d, 'a'), call: (f, d) => f.rename(join(d, 'a'), join(d, 'b')) },
  { name: 'rename of a missing file fails ENOENT rename with dest', call: (f, d) => f.rename(join(d, 'a'), join(d, 'b')) },
  { name: 'rename a directory over a non-empty one fails', setup: (d) => { fs.mkdirSync(join(d, 's')); fs.mkdirSync(join(d, 't')); file(d, 't/x'); }, call: (f, d) => f.rename(join(d, 's'), join(d, 't')) },
  { name: 'mkdir creates a directory', call: (f, d) => f.mkdir(join(d, 'n')) },
  { name: 'mkdir with a mode', call: (f, d) => f.mkdir(join(d, 'n'), { mode: 0o700 }) },
  { name: 'mkdir of an existing directory fails EEXIST mkdir', call: (f, d) => f.mkdir(d) },
  { name: 'mkdir under a missing parent fails ENOENT', call: (f, d) => f.mkdir(join(d, 'x/y')) },
  { name: 'mkdir recursive creates parents and returns the first', call: (f, d) => f.mkdir(join(d, 'x/y/z'), { recursive: true }) },
  { name: 'mkdir recursive on an existing directory returns undefined', call: (f, d) => f.mkdir(d, { recursive: true }) },
  { name: 'mkdir recursive over a file fails EEXIST', setup: (d) => file(d, 'a'), call: (f, d) => f.mkdir(join(d, 'a'), { recursive: true }) },
  { name: 'mkdir recursive through a file fails ENOTDIR', setup: (d) => file(d, 'a'), call: (f, d) => f.mkdir(join(d, 'a/b'), { recursive: true }) },
  { name: 'mkdir recursive deep through a file', setup: (d) => file(d, 'a'), call: (f, d) => f.mkdir(join(d, 'a/b/c'), { recursive: true }) },
  { name: 'mkdir with a bad recursive option', call: (f, d) => f.mkdir(join(d, 'n'), { recursive: 'yes' as unknown as boolean }) },
  { name: 'rmdir removes an empty directory', setup: (d) => fs.mkdirSync(join(d, 's')), call: (f, d) => f.rmdir(join(d, 's')) },
  { name: 'rmdir of a non-empty directory fails ENOTEMPTY rmdir', setup: (d) => { fs.mkdirSync(join(d, 's')); file(d, 's/x'); }, call: (f, d) => f.rmdir(join(d, 's')) },
  { name: 'rmdir of a file fails ENOTDIR', setup: (d) => file(d, 'a'), call: (f, d) => f.rmdir(join(d, 'a')) },
  { name: 'symlink creates a link', setup: (d) => file(d, 'a'), call: (f, d) => f.symlink(join(d, 'a'), join(d, 'l')) },
  { name: 'symlink onto an existing path fails EEXIST symlink', setup: (d) => file(d, 'a'), call: (f, d) => f.symlink(join(d, 'x'), join(d, 'a')) },
  { name: 'link creates a hard link', setup: (d) => file(d, 'a'), call: async (f, d) => { await f.link(join(d, 'a'), join(d, 'h')); return (await f.stat(join(d, 'a'))).nlink; } },
  { name: 'link of a missing file fails ENOENT link', call: (f, d) => f.link(join(d, 'a'), join(d, 'h')) },
  { name: 'truncate shortens a file', setup: (d) => file(d, 'a', 'hello world'), call: (f, d) => f.truncate(join(d, 'a'), 5) },
  { name: 'truncate without a length empties it', setup: (d) => file(d, 'a', 'hello world'), call: (f, d) => f.truncate(join(d, 'a')) },
  { name: 'truncate of a missing file fails ENOENT open', call: (f, d) => f.truncate(join(d, 'a'), 1) },
  { name: 'access of a missing file', call: (f, d) => f.access(join(d, 'a')) },
  { name: 'copyFile copies', setup: (d) => file(d, 'a', 'copy me'), call: (f, d) => f.copyFile(join(d, 'a'), join(d, 'b')) },
  { name: 'readdir lists names', setup: (d) => { file(d, 'a'); file(d, 'b'); }, call: async (f, d) => (await f.readdir(d)).sort() },
  { name: 'readdir of a missing directory fails ENOENT scandir', call: (f, d) => f.readdir(join(d, 'x')) },
  { name: 'readlink of a file fails EINVAL', setup: (d) => file(d, 'a'), call: (f, d) => f.readlink(join(d, 'a')) },
  { name: 'rm recursive removes a tree', setup: (d) => { fs.mkdirSync(join(d, 's/t'), { recursive: true }); file(d, 's/t/x'); }, call: (f, d) => f.rm(join(d, 's'), { recursive: true }) },
  { name: 'chmod changes the mode', setup: (d) => file(d, 'a'), call: (f, d) => f.chmod(join(d, 'a'), 0o600) },
  { name: 'open with a bad flag string', call: (f, d) => f.open(join(d, 'a'), 'nope') },
  { name: 'open of a missing file fails ENOENT open', call: (f, d) => f.open(join(d, 'a')) },
  { name: 'open "wx" on an existing file fails EEXIST', setup: (d) => file(d, 'a'), call: (f, d) => f.open(join(d, 'a'), 'wx') },
  { name: 'open with a numeric flag and mode creates', call: async (f, d) => { const h = await f.open(join(d, 'a'), fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o600); await h.close(); } },
  {
    name: 'FileHandle read in all call forms',
    setup: (d) => file(d, 'a', 'abcdefghijklmnop'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'a'));
      try {
        const out: unknown[] = [];
        const b = Buffer.alloc(6);
        out.push(await h.read(b, 0, 4, 2));
        out.push(await h.read(b, 1, 3, null));
        out.push(await h.read(b, { offset: 2, length: 2, position: 10 }));
        out.push(await h.read({ buffer: Buffer.alloc(3), position: 0 }));
        out.push(await h.read(Buffer.alloc(4)));
        out.push(await h.read(b, 0, 0, 0));
        const all = await h.read();
        out.push([all.bytesRead, all.buffer.byteLength]);
        out.push(await h.read(Buffer.alloc(4), 0, 4, 100));
        return out;
      } finally { await h.close(); }
    },
  },
  {
    name: 'FileHandle read refuses bad ranges like Node',
    setup: (d) => file(d, 'a', 'abc'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'a'));
      const errs: unknown[] = [];
      for (const args of [[Buffer.alloc(4), -1], [Buffer.alloc(4), 0, 5], [Buffer.alloc(4), 1.5], [Buffer.alloc(0), 0, 1], ['str']]) {
        try { await (h.read as (...a: unknown[]) => Promise<unknown>)(...args); errs.push('ok'); } catch (e) { errs.push(normErr(e, d)); }
      }
      await h.close();
      return errs;
    },
  },
  {
    name: 'FileHandle write of buffers and strings, then stat, truncate, sync, datasync',
    call: async (f, d) => {
      const h = await f.open(join(d, 'w'), 'w+');
      try {
        const out: unknown[] = [];
        out.push(await h.write(Buffer.from('0123456789'), 2, 5, 0));
        out.push(await (h.write as (...a: unknown[]) => Promise<unknown>)(Buffer.from('xy'), { offset: 0, length: 2, position: 8 }));
        out.push(await h.write('str', 1));
        out.push(await h.write('é', null, 'latin1'));
        out.push(await h.write(Buffer.alloc(0)));
        out.push(await h.writev([Buffer.from('v1'), Buffer.from('v2')], 20));
        const rb = [Buffer.alloc(2), Buffer.alloc(3)];
        out.push(await h.readv(rb, 0));
        out.push((await h.stat()).size);
        await h.truncate(4);
        await h.sync();
        await h.datasync();
        out.push((await h.stat()).size);
        return out;
      } finally { await h.close(); }
    },
  },
  {
    name: 'FileHandle readFile, writeFile and appendFile',
    setup: (d) => file(d, 'a', 'start'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'a'), 'a+');
      try {
        await h.appendFile('-more');
        await h.writeFile(Buffer.from('-bytes'));
        return [await h.readFile('utf8'), await h.read(Buffer.alloc(5), 0, 5, 0)];
      } finally { await h.close(); }
    },
  },
  {
    // close() waits for a writeFile of an iterable through all its chunks; the
    // next open (which may reuse the handle's slot) gets none of them.
    name: 'FileHandle writeFile of an iterable, closed between its chunks',
    setup: (d) => file(d, 'b', ''),
    call: async (f, d) => {
      const a = await f.open(join(d, 'a'), 'w');
      let resume!: () => void;
      const gate = new Promise<void>((r) => { resume = r; });
      async function* chunks(): AsyncGenerator<string> { yield 'first-'; await gate; yield 'second'; }
      const writing = a.writeFile(chunks() as never).then(() => 'ok', (e: unknown) => normErr(e, d));
      await new Promise((r) => setImmediate(r));
      const closing = a.close();
      const b = await f.open(join(d, 'b'), 'r+');
      resume();
      const out = [await writing];
      await closing;
      await b.writeFile('B');
      await b.close();
      out.push(fs.readFileSync(join(d, 'a'), 'utf8'), fs.readFileSync(join(d, 'b'), 'utf8'));
      return out;
    },
  },
  {
    name: 'FileHandle writeFile of an array closed in the same tick, and a read at an odd position too',
    setup: (d) => file(d, 'r', 'abcdef'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'w'), 'w');
      const w = h.writeFile(['hello ', 'world'] as never).then(() => 'ok', (e: unknown) => normErr(e, d));
      await h.close();
      const r = await f.open(join(d, 'r'));
      const read = r.read(Buffer.alloc(3), 0, 3, -2).then((x) => x.bytesRead, (e: unknown) => normErr(e, d));
      await r.close();
      return [await w, fs.readFileSync(join(d, 'w'), 'utf8'), await read];
    },
  },
  {
    // libuv writes IOV_MAX buffers at a time until all are written, reads into the first IOV_MAX,
    // and takes a negative position as the file position.
    name: 'FileHandle writev and readv of 1025 buffers, and at position -5',
    call: async (f, d) => {
      const h = await f.open(join(d, 'v'), 'w+');
      try {
        const bufs = Array.from({ length: 1025 }, (_, k) => Buffer.from([k & 0xff, 0x41]));
        const out: unknown[] = [(await h.writev(bufs, 0)).bytesWritten];
        const into = Array.from({ length: 1025 }, () => Buffer.alloc(2));
        out.push((await h.readv(into, 0)).bytesRead, Buffer.concat(into.slice(1020)).toString('hex'));
        out.push((await h.writev([Buffer.from('tail')], -5)).bytesWritten);
        out.push((await h.readv([Buffer.alloc(3)], -5)).bytesRead);
        return out;
      } finally { await h.close(); }
    },
  },
  {
    name: 'FileHandle createWriteStream with 3000 writes in one tick',
    call: async (f, d) => {
      const h = await f.open(join(d, 's'), 'w');
      const ws = h.createWriteStream();
      for (let k = 0; k < 3000; k++) ws.write(`line ${k}\n`);
      ws.end();
      await new Promise<void>((res, rej) => { ws.on('close', res); ws.on('error', rej); });
      return fs.readFileSync(join(d, 's'), 'utf8').length;
    },
  },
  {
    name: 'writeFile and appendFile with { flag: 0 } use their default flag',
    setup: (d) => file(d, 'a', 'old'),
    call: async (f, d) => {
      await f.writeFile(join(d, 'a'), 'new', { flag: 0 as never });
      await f.appendFile(join(d, 'b'), 'app', { flag: 0 as never });
      return [fs.readFileSync(join(d, 'a'), 'utf8'), fs.readFileSync(join(d, 'b'), 'utf8')];
    },
  },
  {
    name: 'FileHandle write of a string with the encoding "buffer" writes UTF-8',
    call: async (f, d) => {
      const h = await f.open(join(d, 'e'), 'w');
      try {
        const r = await h.write('hé€', 0, 'buffer' as BufferEncoding);
        return [r.bytesWritten, fs.readFileSync(join(d, 'e')).toString('hex')];
      } finally { await h.close(); }
    },
  },
  {
    name: 'FileHandle createWriteStream with { flush: true }',
    call: async (f, d) => {
      const h = await f.open(join(d, 'fl'), 'w');
      const ws = h.createWriteStream({ flush: true } as never);
      ws.end('data');
      await new Promise<void>((res, rej) => { ws.on('close', res); ws.on('error', rej); });
      return fs.readFileSync(join(d, 'fl'), 'utf8');
    },
  },
  {
    name: 'stat reads options.bigint once; mkdir reads its options before the path',
    setup: (d) => { file(d, 'a'); fs.mkdirSync(join(d, 'bbb')); },
    call: async (f, d) => {
      let reads = 0;
      const st = await f.stat(join(d, 'a'), { get bigint() { reads++; return reads === 1; } } as never);
      const p = Buffer.from(join(d, 'aaa'));
      const made = await f.mkdir(p, { get recursive() { p.write('bbb', p.length - 3); return false; } } as never)
        .then(() => 'made', (e: unknown) => normErr(e, d));
      return [reads, typeof st.size, made, fs.existsSync(join(d, 'aaa'))];
    },
  },
  {
    // libuv truncates an existing destination first: EINVAL on a FIFO. (libuv then
    // unlinks it and uring/fs does not: docs/fs.md; the FIFO is removed here for both.)
    name: 'copyFile onto an existing FIFO fails EINVAL',
    setup: (d) => { file(d, 'src', 'data'); spawnSync('mkfifo', [join(d, 'fifo')]); },
    call: async (f, d) => {
      const reader = fs.openSync(join(d, 'fifo'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        return await f.copyFile(join(d, 'src'), join(d, 'fifo'));
      } finally {
        fs.closeSync(reader);
        fs.rmSync(join(d, 'fifo'), { force: true });
      }
    },
  },
  {
    name: 'FileHandle calls after close fail EBADF "file closed"',
    setup: (d) => file(d, 'a'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'a'), 'r+');
      await h.close();
      await h.close();
      const out: unknown[] = [h.fd];
      const calls: [string, () => Promise<unknown>][] = [
        ['read', () => h.read(Buffer.alloc(1), 0, 1, 0)], ['write', () => h.write('x')],
        ['stat', () => h.stat()], ['truncate', () => h.truncate()], ['sync', () => h.sync()],
        ['datasync', () => h.datasync()], ['chmod', () => h.chmod(0o600)], ['chown', () => h.chown(0, 0)],
        ['readv', () => h.readv([Buffer.alloc(1)])], ['writev', () => h.writev([Buffer.alloc(1)])],
        ['readFile', () => h.readFile()], ['writeFile', () => h.writeFile('x')],
        ['utimes', () => h.utimes(1, 1)],
      ];
      for (const [name, call] of calls) {
        try { await call(); out.push([name, 'ok']); } catch (e) { out.push([name, normErr(e, d)]); }
      }
      return out;
    },
  },
  {
    name: 'FileHandle read of a directory fails EISDIR read',
    call: async (f, d) => {
      const h = await f.open(d);
      try { return await h.read(Buffer.alloc(4), 0, 4, 0); } finally { await h.close(); }
    },
  },
  {
    name: 'FileHandle readLines and streams',
    setup: (d) => file(d, 'a', 'one\ntwo\nthree\n'),
    call: async (f, d) => {
      const h = await f.open(join(d, 'a'));
      const lines: string[] = [];
      for await (const l of h.readLines()) lines.push(l);
      const w = await f.open(join(d, 'b'), 'w');
      const ws = w.createWriteStream();
      await new Promise<void>((res, rej) => { ws.on('error', rej); ws.end('streamed', () => res()); });
      await new Promise<void>((r) => ws.on('close', () => r()));
      const r = await f.open(join(d, 'b'));
      const chunks: Buffer[] = [];
      for await (const c of r.createReadStream({ start: 2 })) chunks.push(c as Buffer);
      return [lines, Buffer.concat(chunks).toString(), h.fd, w.fd, r.fd];
    },
  },
];

for (const mode of ['io_uring', 'node'] as const) {
  describe(`uring/fs matches node:fs/promises (${mode} backend)`, () => {
    const tmp = tempDir('uring-fs-conf-');
    before(async () => {
      const b = await ufs._setBackend(mode === 'node' ? 'node' : 'auto');
      if (mode === 'io_uring') assert.equal(b.kind, 'io_uring', `io_uring backend unavailable: ${b.reason}`);
      else assert.equal(b.kind, 'node');
    });
    after(async () => { await ufs._setBackend('auto'); tmp.cleanup(); });
    let n = 0;
    for (const c of CASES) {
      it(c.name, async () => {
        const k = n++;
        const du = join(tmp.dir, `u${k}`);
        const dn = join(tmp.dir, `n${k}`);
        fs.mkdirSync(du);
        fs.mkdirSync(dn);
        const got = await outcome(ufs as unknown as Api, c, du);
        const want = await outcome(nfs, c, dn);
        assert.deepEqual(got, want);
      });
    }
  });
}

describe('uring/fs results equal node:fs/promises results on the same path', () => {
  const tmp = tempDir('uring-fs-same-');
  after(() => tmp.cleanup());
  it('stat() and lstat() return fs.Stats deep-equal to node\'s', async () => {
    const p = file(tmp.dir, 'a', 'stat me');
    fs.symlinkSync(p, join(tmp.dir, 'l'));
    assert.deepStrictEqual(await ufs.stat(p), await nfs.stat(p));
    assert.deepStrictEqual(await ufs.lstat(join(tmp.dir, 'l')), await nfs.lstat(join(tmp.dir, 'l')));
    const h = await ufs.open(p);
    const nh = await nfs.open(p);
    assert.deepStrictEqual(await h.stat(), await nh.stat());
    await h.close();
    await nh.close();
  });
  it('every node:fs/promises export exists with the same kind', () => {
    for (const [k, v] of Object.entries(nfs)) {
      if (k === 'default') continue;
      assert.equal(typeof (ufs as Record<string, unknown>)[k], typeof v, k);
    }
    const proto = Object.getOwnPropertyNames(Object.getPrototypeOf(fs.promises.open));
    void proto;
  });
  it('FileHandle has every method of node\'s FileHandle', async () => {
    const p = file(tmp.dir, 'm');
    const nh = await nfs.open(p);
    const h = await ufs.open(p);
    for (const k of Object.getOwnPropertyNames(Object.getPrototypeOf(nh))) {
      if (k === 'constructor') continue;
      assert.ok(k in h, k);
    }
    assert.equal(typeof h[Symbol.asyncDispose], 'function');
    await nh.close();
    await h.close();
  });
});
