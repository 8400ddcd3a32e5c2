// Secure defaults: no SQPOLL unless asked, rings that refuse work after the
// process changes its IDs, the URING_DISABLE switch, and sandboxed rings
// (IORING_REGISTER_RESTRICTIONS).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Ring, constants as C } from '../../src/index';
import { runChild } from '../child';

function sqpollThreads(): number {
  return readdirSync('/proc/self/task').filter((t) => {
    try { return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('iou-sqp'); } catch { return false; }
  }).length;
}

describe('secure defaults', () => {
  it('SQPOLL is off unless asked for', async () => {
    const before = sqpollThreads();
    const ring = new Ring();
    assert.equal(ring.setupFlags & C.Setup.SQPOLL, 0);
    await ring.nop();
    assert.equal(sqpollThreads(), before);
    await ring.close();
  });

  it('a ring refuses new work after the process changes uid/gid (ERR_RING_CREDENTIALS_CHANGED)', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to change IDs');
    const res = await runChild(`
(async () => {
  const ring = new uring.Ring({ entries: 4 });
  await ring.nop();
  process.setgid(65534);
  process.setuid(65534);
  let code = 'none';
  try { await ring.nop(); } catch (e) { code = e.code; }
  let closeWorks = false;
  await ring.close().then(() => { closeWorks = true; });
  const fresh = new uring.Ring({ entries: 4 });
  const ok = await fresh.nop();
  await fresh.close();
  console.log(JSON.stringify({ code, closeWorks, ok, uid: process.getuid() }));
})();`, 10_000);
    assert.equal(res.hung, false);
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim());
    assert.deepEqual(out, { code: 'ERR_RING_CREDENTIALS_CHANGED', closeWorks: true, ok: 0, uid: 65534 });
  });

  it('URING_DISABLE makes io_uring unavailable without loading the addon or calling io_uring_setup', async () => {
    const res = await runChild(`
let loaded = 0;
const dlopen = process.dlopen;
process.dlopen = function (...a) { loaded++; return dlopen.apply(this, a); };
try {
  new uring.Ring();
  console.log('created');
} catch (e) {
  console.log(JSON.stringify({ code: e.code, reason: e.reason, loaded, unavailable: e instanceof uring.UringUnavailableError }));
}`, 10_000, { URING_DISABLE: '1' });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout.trim()),
      { code: 'ERR_URING_UNAVAILABLE', reason: 'disabled', loaded: 0, unavailable: true });
  });

  describe('restrictions (a sandboxed ring)', () => {
    it('allows the listed operations and refuses others with EACCES', async () => {
      const ring = new Ring({ entries: 8, restrictions: { ops: ['nop', 'TIMEOUT', C.Op.READ] } });
      try {
        assert.equal(await ring.nop(), 0);
        assert.equal(await ring.timeout(1), 'expired');
        await assert.rejects(ring.openat('/dev/null'), { code: 'EACCES', syscall: 'openat' });
        await assert.rejects(ring.statx('/'), { code: 'EACCES' });
        // ASYNC_CANCEL is always allowed: AbortSignals and close() need it.
        const ac = new AbortController();
        const s = ring.sleep(60_000, { signal: ac.signal });
        ac.abort();
        await assert.rejects(s, { name: 'AbortError' });
        // Register calls not listed are refused.
        assert.equal(ring._n.register(ring.fd, C.Register.REGISTER_FILES, new Int32Array([0]), 1), -13);
        // The probe was read before the sandbox closed.
        assert.equal(ring.probe().supports('NOP'), true);
      } finally {
        await ring.close();
      }
    });

    it('allows listed register calls, and SQE flags only as listed', async () => {
      const ring = new Ring({
        entries: 8,
        restrictions: { ops: ['nop', 'read'], register: ['REGISTER_FILES', 'UNREGISTER_FILES'], sqeFlags: { allowed: ['fixedFile'] } },
      });
      try {
        assert.equal(ring._n.register(ring.fd, C.Register.REGISTER_FILES, new Int32Array([0]), 1), 0);
        assert.equal(ring._n.register(ring.fd, C.Register.UNREGISTER_FILES, null, 0), 0);
        // A link flag is not in the allow-list: the chain's first entry is refused.
        const [a] = await ring.chain().nop().nop().submit();
        assert.equal(a.status === 'rejected' && (a.reason as { code?: string }).code, 'EACCES');
        assert.equal(await ring.nop(), 0);
      } finally {
        await ring.close();
      }
    });

    it('a sandboxed ring created with disabled: true waits for enable()', async () => {
      const ring = new Ring({ entries: 4, disabled: true, restrictions: { ops: ['nop'] } });
      // The kernel refuses to take submissions from a disabled ring.
      await assert.rejects(ring.nop(), { errno: -77 /* EBADFD */, syscall: 'io_uring_enter' });
      assert.equal(ring.closed, true);
      const r2 = new Ring({ entries: 4, disabled: true, restrictions: { ops: ['nop'] } });
      r2.enable();
      assert.equal(await r2.nop(), 0);
      // Enabling again is a register call the sandbox does not list.
      assert.throws(() => r2.enable(), (e: { code?: string }) => e.code === 'EACCES' || e.code === 'EBADFD');
      await r2.close();
    });

    it('refuses bad restriction lists before creating a ring', () => {
      assert.throws(() => new Ring({ restrictions: { ops: ['frobnicate' as 'nop'] } }), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => new Ring({ restrictions: { ops: 'read' as unknown as ['read'] } }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => new Ring({ restrictions: { ops: [], register: ['NOPE' as 'REGISTER_FILES'] } }), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => new Ring({ restrictions: { ops: [], sqeFlags: { allowed: ['sticky' as 'link'] } } }), { code: 'ERR_INVALID_ARG_VALUE' });
    });
  });
});
