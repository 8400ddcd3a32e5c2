// SINGLE_ISSUER + DEFER_TASKRUN: completion work waits until the creating
// thread enters the kernel, and queuing it does not make the ring fd
// readable. These tests check that completions still arrive through the event
// loop with no submission from the user, and that other tasks are refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { Ring, TimeoutError } from '../../src/index';
import { native } from '../../src/native';
import { allShapes } from '../helpers';

const shape = allShapes().find((s) => s.name === 'single-issuer+defer-taskrun')!;

describe('SINGLE_ISSUER + DEFER_TASKRUN rings', { skip: !shape.available && 'kernel lacks DEFER_TASKRUN' }, () => {
  it('delivers a read completed later by another process, with no submission in between', async () => {
    const ring = new Ring(shape.options);
    const [r, w] = native().pipe() as [number, number];
    try {
      const buf = Buffer.alloc(16);
      const read = ring.read(r, buf);
      const child = spawn('sh', ['-c', 'sleep 0.1; printf later'], { stdio: ['ignore', w, 'inherit'] });
      native().closeFd(w);
      assert.equal(await read, 5);
      assert.equal(buf.toString('latin1', 0, 5), 'later');
      await new Promise((res) => child.on('exit', res));
    } finally {
      native().closeFd(r);
      await ring.close();
    }
  });

  it('delivers a read completed by a write from another thread', async () => {
    const ring = new Ring(shape.options);
    const [r, w] = native().pipe() as [number, number];
    try {
      const buf = Buffer.alloc(8);
      const read = ring.read(r, buf);
      const worker = new Worker(`setTimeout(() => require('node:fs').writeSync(${w}, 'thread'), 50)`, { eval: true });
      assert.equal(await read, 6);
      assert.equal(buf.toString('latin1', 0, 6), 'thread');
      await worker.terminate();
    } finally {
      native().closeFd(r); native().closeFd(w);
      await ring.close();
    }
  });

  it('delivers a kernel timer (a linked timeout) with no submission in between', async () => {
    const ring = new Ring(shape.options);
    const [r, w] = native().pipe() as [number, number];
    try {
      await assert.rejects(ring.read(r, Buffer.alloc(1), -1, { timeout: 30 }), TimeoutError);
    } finally {
      native().closeFd(r); native().closeFd(w);
      await ring.close();
    }
  });

  it('the kernel refuses another thread with EEXIST, and the ring reports it clearly', async () => {
    const ring = new Ring(shape.options);
    try {
      const addon = join(__dirname, '..', '..', 'src', 'native.js');
      const worker = new Worker(`
        const { parentPort, workerData } = require('node:worker_threads');
        const n = require(workerData.addon).native();
        parentPort.postMessage(n.enter(workerData.fd, 0, 0, 1));`, { eval: true, workerData: { addon, fd: ring.fd } });
      const res = await new Promise((resolve) => worker.on('message', resolve));
      await worker.terminate();
      assert.equal(res, -17, 'EEXIST for a task that is not the ring\'s submitter');
      // The same answer from the ring's own enter becomes a clear error.
      const [r, w] = native().pipe() as [number, number];
      const pending = ring.read(r, Buffer.alloc(1));
      (ring as unknown as { failUnsubmitted(ret: number): void }).failUnsubmitted(-17);
      await assert.rejects(pending, { code: 'ERR_RING_WRONG_THREAD', message: /singleIssuer/ });
      native().closeFd(r); native().closeFd(w);
    } finally {
      ring.destroy();
    }
  });
});
