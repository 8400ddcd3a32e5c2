// The registered file table: registration, updates, tags, limits, and the
// library's view against the kernel's (/proc/self/fdinfo/<ring fd>).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { Ring, FileTable, FixedFile, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, delay, tempDir, assertViewMatches } from '../helpers';

const n = native();

function pipe(): [number, number] {
  const p = n.pipe();
  assert.ok(Array.isArray(p));
  return p;
}


/** Whether writing to `wfd` fails with EPIPE (the read end is gone). */
function readerGone(wfd: number): boolean {
  try {
    writeSync(wfd, Buffer.from('x'));
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return true;
    throw e;
  }
}

async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await delay(5);
  }
  return cond();
}

/** A sync method throws, a promise method rejects: either way with `code`. */
async function refused(fn: () => unknown, code: string): Promise<void> {
  let r: unknown;
  try {
    r = fn();
  } catch (e) {
    assert.equal((e as { code?: string }).code, code, String(fn));
    return;
  }
  assert.ok(r instanceof Promise, `${String(fn)} neither threw nor returned a promise`);
  await assert.rejects(r, { code }, String(fn));
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = release().split('.').map(Number) as [number, number];
  return a > major || (a === major && b >= minor);
}

for (const shape of allShapes()) {
  describe(`registered files on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    it('register() returns one FixedFile per slot and the view equals fdinfo', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      try {
        writeFileSync(tmp.path('a'), 'alpha');
        const fd = openSync(tmp.path('a'), 'r');
        const files = ring.files.register([fd, -1, fd]);
        closeSync(fd);
        assert.equal(files.length, 3);
        assert.ok(files.every((f, i) => f instanceof FixedFile && f.index === i));
        assert.deepEqual(ring.files.occupied(), [0, 2]);
        assertViewMatches(ring);
        const buf = Buffer.alloc(5);
        assert.equal(await ring.read(files[2]!, buf, 0), 5, 'the slot keeps the file after its fd is closed');
        assert.equal(buf.toString(), 'alpha');
        await assert.rejects(ring.read(files[1]!, buf, 0), { code: 'EBADF' }, 'an empty slot reads EBADF');
        ring.files.unregister();
        assert.equal(ring.files.size, 0);
        assertViewMatches(ring);
      } finally {
        await ring.close();
        tmp.cleanup();
      }
    });

    it('update() installs, clears and skips slots, and the view follows', async () => {
      const ring = new Ring(shape.options);
      const [r, w] = pipe();
      try {
        ring.files.registerSparse(4);
        assertViewMatches(ring);
        assert.deepEqual(ring.files.update(1, [r, w, r]), { applied: 3, failedIndex: -1, failedFd: undefined, error: undefined });
        assertViewMatches(ring);
        assert.equal(ring.files.update(1, [-1, FileTable.SKIP]).applied, 2);
        assert.deepEqual(ring.files.occupied(), [2, 3]);
        assertViewMatches(ring);
        assert.equal(await ring.write(ring.files.get(2), Buffer.from('hi')), 2);
        const b = Buffer.alloc(2);
        assert.equal(await ring.read(ring.files.get(3), b), 2);
        assert.equal(b.toString(), 'hi');
      } finally {
        await ring.close();
        n.closeFd(r);
        n.closeFd(w);
      }
    });
  });
}

describe('registered file lifetimes', () => {
  it('a registered pipe end is released only by unregister(): the writer sees EPIPE only then', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    try {
      ring.files.register([r]);
      n.closeFd(r);
      await delay(20);
      assert.equal(readerGone(w), false, 'the table still holds the read end');
      ring.files.unregister();
      assert.ok(await eventually(() => readerGone(w)), 'EPIPE after unregister');
    } finally {
      await ring.close();
      n.closeFd(w);
    }
  });

  it('a registered pipe end is released when the ring closes', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    try {
      ring.files.register([r]);
      n.closeFd(r);
      await delay(20);
      assert.equal(readerGone(w), false);
      await ring.close();
      assert.ok(await eventually(() => readerGone(w)), 'EPIPE after the ring closed');
    } finally {
      n.closeFd(w);
    }
  });

  it('unregister() with a read in flight lets the read finish on the old file', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    try {
      const [f] = ring.files.register([r]);
      n.closeFd(r);
      const buf = Buffer.alloc(4);
      const pending = ring.read(f!, buf);
      ring.submit();
      ring.files.unregister();
      writeSync(w, Buffer.from('late'));
      assert.equal(await pending, 4);
      assert.equal(buf.toString(), 'late');
    } finally {
      await ring.close();
      n.closeFd(w);
    }
  });

  it('replacing a slot with a read in flight lets the read finish on the old file', async () => {
    const ring = new Ring({ entries: 8 });
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    try {
      const [f] = ring.files.register([r1]);
      const buf = Buffer.alloc(3);
      const pending = ring.read(f!, buf);
      ring.submit();
      assert.equal(ring.files.update(0, [r2]).applied, 1);
      writeSync(w1, Buffer.from('old'));
      assert.equal(await pending, 3);
      assert.equal(buf.toString(), 'old');
      writeSync(w2, Buffer.from('new'));
      assert.equal(await ring.read(f!, buf), 3);
      assert.equal(buf.toString(), 'new', 'later reads use the new file');
    } finally {
      await ring.close();
      for (const fd of [r1, w1, r2, w2]) n.closeFd(fd);
    }
  });

  it('tags: released() waits for the read in flight on a removed file, then resolves', async (t) => {
    const ring = new Ring({ entries: 8 });
    if (!ring.features.rsrcTags) { await ring.close(); t.skip('no IORING_FEAT_RSRC_TAGS'); return; }
    const [r, w] = pipe();
    try {
      const [f] = ring.files.register([r], { tags: true });
      const events: number[] = [];
      ring.files.on('release', (slot: number) => events.push(slot));
      const buf = Buffer.alloc(2);
      const pending = ring.read(f!, buf);
      ring.submit();
      let done = false;
      const rel = ring.files.released(f!).then(() => { done = true; });
      ring.files.update(0, [-1]);
      await delay(30);
      assert.equal(done, false, 'not released while the read is in flight');
      writeSync(w, Buffer.from('ok'));
      assert.equal(await pending, 2);
      await rel;
      assert.deepEqual(events, [0]);
      assertViewMatches(ring);
    } finally {
      await ring.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('tags: unregister() reports every populated slot; untagged and tagless cases refuse clearly', async (t) => {
    const ring = new Ring({ entries: 8 });
    if (!ring.features.rsrcTags) { await ring.close(); t.skip('no IORING_FEAT_RSRC_TAGS'); return; }
    const [r, w] = pipe();
    try {
      ring.files.register([r, -1, w], { tags: true });
      const all = Promise.all([ring.files.released(0), ring.files.released(2)]);
      const direct = await ring.files.openat('/dev/null', C.O_RDONLY, 0, { slot: 1 });
      await assert.rejects(ring.files.released(direct), { code: 'ERR_URING_UNTAGGED_FILE' });
      ring.files.unregister();
      await all;
      ring.files.registerSparse(1);
      await assert.rejects(ring.files.released(0), { code: 'ERR_URING_NO_TAGS' });
    } finally {
      await ring.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('tags: pending released() promises settle when the ring closes', async (t) => {
    const ring = new Ring({ entries: 8 });
    if (!ring.features.rsrcTags) { await ring.close(); t.skip('no IORING_FEAT_RSRC_TAGS'); return; }
    const [r, w] = pipe();
    ring.files.register([r], { tags: true });
    const rel = ring.files.released(0);
    await ring.close();
    await rel;
    n.closeFd(r);
    n.closeFd(w);
  });
});

describe('registration errors', () => {
  it('registering twice fails EBUSY with a hint and leaves the first table intact', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    try {
      ring.files.register([r, w]);
      assert.throws(() => ring.files.register([r]), (e: Error & { code?: string; hint?: string }) =>
        e.code === 'EBUSY' && /already registered/.test(e.message));
      assert.throws(() => ring.files.registerSparse(8), { code: 'EBUSY' });
      assert.equal(ring.files.size, 2);
      assertViewMatches(ring);
    } finally {
      await ring.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('registering a ring fd fails EBADF with a hint naming the entry', async () => {
    const ring = new Ring({ entries: 8 });
    const other = new Ring({ entries: 2 });
    const [r, w] = pipe();
    try {
      for (const fds of [[ring.fd], [r, other.fd]]) {
        assert.throws(() => ring.files.register(fds), (e: Error & { code?: string }) =>
          e.code === 'EBADF' && new RegExp(`fds\\[${fds.length - 1}\\].*io_uring instance`).test(e.message));
      }
      assert.equal(ring.files.size, 0);
      ring.files.registerSparse(2);
      const res = ring.files.update(0, [r, other.fd]);
      assert.equal(res.applied, 1);
      assert.equal(res.failedIndex, 1);
      assert.equal(res.failedFd, other.fd);
      assert.equal(res.error?.code, 'EBADF');
      assert.match(res.error!.message, /io_uring instance/);
      assertViewMatches(ring);
    } finally {
      await ring.close();
      await other.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('update() reports a partial update exactly and leaves the refused slot empty', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    const [r2, w2] = pipe();
    n.closeFd(w2);
    n.closeFd(r2); // r2 is now a closed fd number
    try {
      ring.files.register([r, r, r]);
      const res = ring.files.update(0, [w, r2, w]);
      assert.equal(res.applied, 1);
      assert.equal(res.failedIndex, 1);
      assert.equal(res.failedFd, r2);
      assert.equal(res.error?.code, 'EBADF');
      assert.match(res.error!.message, /not an open file descriptor/);
      assert.deepEqual(ring.files.occupied(), [0, 2]);
      assertViewMatches(ring);
    } finally {
      await ring.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('bad input is refused before any syscall and consumes no SQE', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = pipe();
    try {
      const before = { ...ring.stats, tail: ring._sq.tail };
      const bad: [() => unknown, string][] = [
        [() => ring.files.register('3' as never), 'ERR_INVALID_ARG_TYPE'],
        [() => ring.files.register([]), 'ERR_INVALID_ARG_VALUE'],
        [() => ring.files.register(new Array((1 << 20) + 1).fill(r)), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.register([r, 1.5]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.register([r, -2]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.register([r, '4' as never]), 'ERR_INVALID_ARG_TYPE'],
        [() => ring.files.register([2 ** 31]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.registerSparse(0), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.registerSparse(2.5), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.registerSparse((1 << 20) + 1), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.register([r], { tags: 1 as never }), 'ERR_INVALID_ARG_VALUE'],
        [() => ring.files.update(0, [r]), 'ERR_URING_NO_FILE_TABLE'],
        [() => ring.files.unregister(), 'ERR_URING_NO_FILE_TABLE'],
        [() => ring.files.get(0), 'ERR_URING_NO_FILE_TABLE'],
        [() => ring.files.openat('/dev/null'), 'ERR_URING_NO_FILE_TABLE'],
      ];
      for (const [fn, code] of bad) await refused(fn, code);
      ring.files.registerSparse(4);
      const bad2: [() => unknown, string][] = [
        [() => ring.files.update(4, [r]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.update(-1, [r]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.update(3, [r, r]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.update(0, [r, -3]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.update(0, [0.5]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.update(0, []), 'ERR_INVALID_ARG_VALUE'],
        [() => ring.files.get(4), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.get(1.5), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.setAllocRange(2, 3), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.openat('/dev/null', 0, 0, { slot: 4 }), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.openat('/dev/null', C.O_CLOEXEC), 'ERR_INVALID_ARG_VALUE'],
        [() => ring.files.close(3 as never), 'ERR_INVALID_ARG_TYPE'],
        [() => ring.files.updateAsync('alloc', [-1]), 'ERR_OUT_OF_RANGE'],
        [() => ring.files.send(ring.files.get(0), ring), 'ERR_INVALID_ARG_VALUE'],
      ];
      for (const [fn, code] of bad2) await refused(fn, code);
      const after = ring.stats;
      assert.equal(ring._sq.tail, before.tail, 'no SQE consumed');
      assert.equal(after.submitted, before.submitted);
      assert.equal(after.enters, before.enters, 'no io_uring_enter');
      assertViewMatches(ring);
    } finally {
      await ring.close();
      n.closeFd(r);
      n.closeFd(w);
    }
  });

  it('a FixedFile from another ring is refused', async () => {
    const a = new Ring({ entries: 4 });
    const b = new Ring({ entries: 4 });
    try {
      a.files.registerSparse(1);
      b.files.registerSparse(1);
      await assert.rejects(b.read(a.files.get(0), Buffer.alloc(1)), { code: 'ERR_URING_FOREIGN_FILE' });
      await assert.rejects(b.files.close(a.files.get(0)), { code: 'ERR_URING_FOREIGN_FILE' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('operations the kernel forbids on fixed files refuse a FixedFile in types and at run time', async () => {
    const ring = new Ring({ entries: 4 });
    try {
      ring.files.registerSparse(1);
      const f = ring.files.get(0);
      // @ts-expect-error statx takes a path
      await assert.rejects(ring.statx(f), { code: 'ERR_INVALID_ARG_VALUE' });
      // @ts-expect-error fstat takes a plain fd
      await assert.rejects(ring.fstat(f), { code: 'ERR_INVALID_ARG_VALUE' });
      // @ts-expect-error closeFd takes a plain fd (use files.close)
      await assert.rejects(ring.closeFd(f), { code: 'ERR_INVALID_ARG_VALUE' });
      // @ts-expect-error renameat takes paths
      await assert.rejects(ring.renameat(f, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error unlinkat takes a path
      await assert.rejects(ring.unlinkat(f), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error mkdirat takes a path
      await assert.rejects(ring.mkdirat(f), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error symlinkat takes paths
      await assert.rejects(ring.symlinkat(f, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error linkat takes paths
      await assert.rejects(ring.linkat('x', f), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error a directory fd must be plain
      await assert.rejects(ring.openat('x', 0, 0, { dirfd: f }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(ring.stats.submitted, 0);
    } finally {
      await ring.close();
    }
  });
});

describe('RLIMIT_NOFILE and table size', () => {
  it('registration raises the soft limit when the table needs it', async () => {
    const lim = n.getRlimit(C.RLIMIT_NOFILE);
    assert.ok(Array.isArray(lim));
    const [soft, hard] = lim;
    const want = 512;
    if (hard !== -1 && hard < want) return;
    const ring = new Ring({ entries: 4 });
    try {
      assert.equal(n.setRlimit(C.RLIMIT_NOFILE, 256), 0);
      ring.files.registerSparse(want);
      const now = n.getRlimit(C.RLIMIT_NOFILE) as [number, number];
      assert.ok(now[0] >= want, `soft limit raised to ${now[0]}`);
      assertViewMatches(ring);
    } finally {
      n.setRlimit(C.RLIMIT_NOFILE, soft);
      await ring.close();
    }
  });

  it('a table beyond the hard limit fails EMFILE naming the limit, before registering', async (t) => {
    const [, hard] = n.getRlimit(C.RLIMIT_NOFILE) as [number, number];
    if (hard === -1 || hard >= 1 << 20) { t.skip('hard limit is not below the table maximum'); return; }
    const ring = new Ring({ entries: 4 });
    try {
      assert.throws(() => ring.files.registerSparse(hard + 1), (e: Error & { code?: string }) =>
        e.code === 'EMFILE' && /RLIMIT_NOFILE/.test(e.message) && e.message.includes(String(hard)));
      assert.equal(ring.files.size, 0);
      ring.files.registerSparse(4);
      assertViewMatches(ring);
    } finally {
      await ring.close();
    }
  });

  it('setAllocRange() limits where the kernel allocates', async () => {
    const ring = new Ring({ entries: 8 });
    try {
      ring.files.registerSparse(8);
      ring.files.setAllocRange(5, 2);
      assert.deepEqual(ring.files.allocRange, [5, 2]);
      const a = await ring.files.openat('/dev/null');
      const b = await ring.files.openat('/dev/null');
      assert.deepEqual([a.index, b.index].sort(), [5, 6]);
      await assert.rejects(ring.files.openat('/dev/null'), { code: 'ENFILE' });
      assertViewMatches(ring);
    } finally {
      await ring.close();
    }
  });
});

describe('ring fds and SCM_RIGHTS', () => {
  it('a ring fd sent over SCM_RIGHTS is refused (EINVAL) from Linux 6.7', { skip: !kernelAtLeast(6, 7) && 'kernel before 6.7' }, async () => {
    const ring = new Ring({ entries: 2 });
    const sp = n.socketpair(1 /* SOCK_STREAM */);
    assert.ok(Array.isArray(sp));
    try {
      assert.equal(n.sendFds(sp[0], [ring.fd]), -22);
      const [r, w] = pipe();
      assert.equal(n.sendFds(sp[0], [r]), 1, 'an ordinary fd still passes');
      n.closeFd(r);
      n.closeFd(w);
    } finally {
      n.closeFd(sp[0]);
      n.closeFd(sp[1]);
      await ring.close();
    }
  });
});
