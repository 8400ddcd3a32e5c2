// Errors look like Node's, and bad arguments are refused before any syscall.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as nodefs } from 'node:fs';
import { Ring, UringSystemError } from '../../src/index';
import { tempDir } from '../helpers';
import { nodeCoded, restack } from '../../src/errors';

describe('errors', () => {
  const ring = new Ring({ entries: 8 });
  const tmp = tempDir();
  after(async () => { await ring.close(); tmp.cleanup(); });

  it('a failed openat rejects like node:fs: code, negative errno, syscall, path and message', async () => {
    const p = tmp.path('missing/file');
    const err = await ring.openat(p).then(() => assert.fail('resolved'), (e: unknown) => e as UringSystemError);
    const node = await nodefs.open(p).then(() => assert.fail('resolved'), (e: NodeJS.ErrnoException) => e);
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ENOENT');
    assert.equal(err.errno, node.errno);
    assert.equal(err.errno, -2);
    assert.equal(err.syscall, 'openat');
    assert.equal(err.path, p);
    assert.equal(err.message, `ENOENT: no such file or directory, openat '${p}'`);
  });

  it('the error carries the stack of the caller that submitted the request', async () => {
    async function submittingCaller(): Promise<void> {
      await ring.openat(tmp.path('nope'));
    }
    const err = await submittingCaller().then(() => assert.fail('resolved'), (e: Error) => e);
    assert.match(err.stack ?? '', /submittingCaller/);
  });

  it('a read on a bad fd rejects EBADF with syscall "read"', async () => {
    await assert.rejects(ring.read(987654, Buffer.alloc(4), 0), { code: 'EBADF', errno: -9, syscall: 'read' });
  });

  it('renameat errors name both paths', async () => {
    const a = tmp.path('a-missing');
    const b = tmp.path('b');
    await assert.rejects(ring.renameat(a, b), {
      code: 'ENOENT', syscall: 'renameat', path: a, dest: b,
      message: `ENOENT: no such file or directory, renameat '${a}' -> '${b}'`,
    });
  });

  const badCalls: [string, () => Promise<unknown>, string][] = [
    ['fd 2**32+3 is not wrapped', () => ring.read(2 ** 32 + 3, Buffer.alloc(1), 0), 'ERR_OUT_OF_RANGE'],
    ['fd 3.7 is not truncated', () => ring.read(3.7, Buffer.alloc(1), 0), 'ERR_OUT_OF_RANGE'],
    ['negative fd', () => ring.read(-1, Buffer.alloc(1), 0), 'ERR_OUT_OF_RANGE'],
    ['fd as string', () => ring.read('3' as never, Buffer.alloc(1), 0), 'ERR_INVALID_ARG_TYPE'],
    ['buffer as string', () => ring.write(1, 'hello' as never, 0), 'ERR_INVALID_ARG_TYPE'],
    ['buffer missing', () => ring.read(0, undefined as never, 0), 'ERR_INVALID_ARG_TYPE'],
    ['position 1.5', () => ring.read(0, Buffer.alloc(1), 1.5), 'ERR_OUT_OF_RANGE'],
    ['position -2', () => ring.read(0, Buffer.alloc(1), -2), 'ERR_OUT_OF_RANGE'],
    ['position 2**53', () => ring.read(0, Buffer.alloc(1), 2 ** 53), 'ERR_OUT_OF_RANGE'],
    ['position 2n**63n', () => ring.read(0, Buffer.alloc(1), 2n ** 63n), 'ERR_OUT_OF_RANGE'],
    ['position as string', () => ring.read(0, Buffer.alloc(1), '0' as never), 'ERR_INVALID_ARG_TYPE'],
    ['path with a NUL byte', () => ring.openat('a\u0000b'), 'ERR_INVALID_ARG_VALUE'],
    ['path as number', () => ring.openat(5 as never), 'ERR_INVALID_ARG_TYPE'],
    ['flags 2**32', () => ring.openat('/x', 2 ** 32), 'ERR_OUT_OF_RANGE'],
    ['mode 0o10000', () => ring.openat('/x', 0, 0o10000), 'ERR_OUT_OF_RANGE'],
    ['readv with a non-array', () => ring.readv(0, Buffer.alloc(1) as never), 'ERR_INVALID_ARG_TYPE'],
    ['readv with a bad element', () => ring.readv(0, [Buffer.alloc(1), 'x' as never]), 'ERR_INVALID_ARG_TYPE'],
    ['options not an object', () => ring.nop(5 as never), 'ERR_INVALID_ARG_TYPE'],
    ['signal not an AbortSignal', () => ring.nop({ signal: {} as never }), 'ERR_INVALID_ARG_TYPE'],
    ['timeout negative', () => ring.nop({ timeout: -1 }), 'ERR_OUT_OF_RANGE'],
    ['fallocate length 1.5', () => ring.fallocate(0, 0, 0, 1.5), 'ERR_OUT_OF_RANGE'],
  ];
  for (const [what, call, code] of badCalls) {
    it(`refuses ${what} with ${code}, before any syscall and without using an SQE`, async () => {
      const tail = ring._sq.tail;
      const before = ring.stats;
      await assert.rejects(call(), { code });
      assert.equal(ring._sq.tail, tail, 'no SQE was taken');
      assert.equal(ring.pending, 0);
      const afterStats = ring.stats;
      assert.equal(afterStats.enters, before.enters, 'no io_uring_enter');
      assert.equal(afterStats.submitted, before.submitted);
    });
  }

  it('an argument error is coded as Node codes its own: the stack says the code, the name stays the class\'s', async () => {
    const ours = await ring.read('x' as never, Buffer.alloc(1)).then(() => assert.fail('resolved'), (e: Error & { code?: string }) => e);
    const node = await nodefs.readFile(5n as never).then(() => assert.fail('resolved'), (e: Error & { code?: string }) => e);
    for (const e of [ours, node]) {
      assert.equal(e.code, 'ERR_INVALID_ARG_TYPE');
      assert.equal(e.name, 'TypeError');
      assert.ok(e.stack!.startsWith('TypeError [ERR_INVALID_ARG_TYPE]: The '), e.stack!.split('\n')[0]);
      assert.deepEqual(Object.keys(e), ['code']);
      assert.equal(Object.prototype.hasOwnProperty.call(e, 'name'), false);
    }
  });

  it('a coded error keeps its [ERR_*] in the stack when its stack is moved to the awaiting caller', () => {
    const err = nodeCoded(new RangeError('File size (3) is greater than 2 GiB'), 'ERR_FS_FILE_TOO_LARGE');
    restack(err, () => undefined);
    assert.ok(err.stack!.startsWith('RangeError [ERR_FS_FILE_TOO_LARGE]: File size'), err.stack!.split('\n')[0]);
    assert.equal(err.name, 'RangeError');
    // A system error's first line has no code in brackets, in Node or here.
    const sys = new Error('ENOENT: no such file or directory') as Error & { code?: string };
    sys.code = 'ENOENT';
    restack(sys, () => undefined);
    assert.ok(sys.stack!.startsWith('Error: ENOENT'));
  });

  it('a detached buffer is refused', async () => {
    const u = new Uint8Array(16);
    structuredClone(u.buffer, { transfer: [u.buffer] });
    await assert.rejects(ring.read(0, u, 0), { code: 'ERR_INVALID_ARG_VALUE', message: /detached/ });
  });

  it('a resizable buffer is refused', async () => {
    const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const ab = new Ctor(16, { maxByteLength: 64 });
    if (!(ab as { resizable?: boolean }).resizable) return;
    await assert.rejects(ring.read(0, new Uint8Array(ab), 0), { code: 'ERR_INVALID_ARG_VALUE', message: /resizable/ });
  });

  it('a closed ring refuses work with ERR_RING_CLOSED', async () => {
    const r = new Ring({ entries: 2 });
    await r.close();
    await assert.rejects(r.nop(), { code: 'ERR_RING_CLOSED' });
    await assert.rejects(r.read(0, Buffer.alloc(1)), { code: 'ERR_RING_CLOSED' });
    assert.throws(() => r.submit(), { code: 'ERR_RING_CLOSED' });
  });

  it('invalid ring options are refused before io_uring_setup', () => {
    assert.throws(() => new Ring({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ entries: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ entries: 65536 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ sqpoll: 'yes' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Ring({ deferTaskrun: true }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new Ring(null as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
