// ring.callbacks: the callback forms of read, write, readFixed and writeFixed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Ring } from '../../src/index';
import { native } from '../../src/native';
import { shapes, tempDir } from '../helpers';

function call<T>(f: (cb: (err: Error | null, v: T) => void) => void): Promise<[Error | null, T]> {
  return new Promise((resolve) => f((err, v) => resolve([err, v])));
}

for (const shape of shapes()) {
  describe(`ring.callbacks on a ${shape.name} ring`, () => {
    it('write then read call back with the byte counts and move the bytes', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      const fd = openSync(tmp.path('f'), 'w+');
      try {
        const out = Buffer.from('callbacks, not promises');
        const [werr, wn] = await call<number>((cb) => ring.callbacks.write(fd, out, 0, cb));
        assert.equal(werr, null);
        assert.equal(wn, out.length);
        assert.equal(readFileSync(tmp.path('f'), 'utf8'), 'callbacks, not promises');
        const back = Buffer.alloc(9);
        const [rerr, rn] = await call<number>((cb) => ring.callbacks.read(fd, back, 11, cb));
        assert.equal(rerr, null);
        assert.equal(rn, 9);
        assert.equal(back.toString(), 'not promi');
      } finally {
        closeSync(fd);
        await ring.close();
        tmp.cleanup();
      }
    });

    it('a failed read calls back with a Node-shaped error', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      writeFileSync(tmp.path('f'), 'x');
      const fd = openSync(tmp.path('f'), 'w'); // not readable
      try {
        const [err, n] = await call<number>((cb) => ring.callbacks.read(fd, Buffer.alloc(4), 0, cb));
        assert.equal(n, 0);
        assert.equal((err as NodeJS.ErrnoException).code, 'EBADF');
        assert.equal((err as NodeJS.ErrnoException).errno, -9);
        assert.equal((err as NodeJS.ErrnoException).syscall, 'read');
      } finally {
        closeSync(fd);
        await ring.close();
        tmp.cleanup();
      }
    });
  });
}

describe('ring.callbacks refusals', () => {
  it('bad arguments and a closed ring throw at once and submit nothing', async () => {
    const ring = new Ring({ entries: 4 });
    const fd = openSync('/dev/zero', 'r');
    try {
      const tail = ring._sq.tail;
      assert.throws(() => ring.callbacks.read(fd, Buffer.alloc(4), 0, undefined as never), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ring.callbacks.read(fd, {} as never, 0, () => undefined), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ring.callbacks.read(-1, Buffer.alloc(4), 0, () => undefined), { code: 'ERR_OUT_OF_RANGE' });
      assert.equal(ring._sq.tail, tail);
      assert.equal(ring.pending, 0);
    } finally {
      await ring.close();
    }
    assert.throws(() => ring.callbacks.read(fd, Buffer.alloc(4), 0, () => undefined), { code: 'ERR_RING_CLOSED' });
    closeSync(fd);
  });

  it('destroy() calls back a pending read once, with the destroy error', async () => {
    const ring = new Ring({ entries: 4 });
    const [r, w] = native().pipe() as [number, number];
    try {
      let calls = 0;
      const got = new Promise<Error | null>((resolve) => ring.callbacks.read(r, Buffer.alloc(8), -1, (err) => { calls++; resolve(err); }));
      ring.submit();
      ring.destroy(new Error('gone'));
      assert.equal((await got)?.message, 'gone');
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(calls, 1);
    } finally {
      native().closeFd(r);
      native().closeFd(w);
    }
  });
});
