// The API fuzzer, short run: 10,000 random calls with hostile arguments
// (`npm run fuzz` runs 100,000). It runs in a child process so that a crash
// or a hang shows as such. URING_FUZZ_SEED replays a run; URING_FUZZ_CALLS
// changes its length.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzzChild } from './child';
import { publicMethods, SPECS } from './engine';

describe('API fuzzing', () => {
  it('every promise-returning Ring method has argument generators (others get generic ones)', (t) => {
    const generic = publicMethods().filter((m) => !(m in SPECS));
    if (generic.length) t.diagnostic(`fuzzed with generic arguments: ${generic.join(', ')}`);
    assert.ok(publicMethods().length >= Object.keys(SPECS).length - generic.length);
    for (const m of Object.keys(SPECS)) assert.ok(publicMethods().includes(m), `${m} is a public method`);
  });

  it('10,000 hostile calls: no crash, no hang, typed errors, refused calls consume no SQE, every promise settles once', (t) => {
    const seed = Number(process.env.URING_FUZZ_SEED) || (Date.now() % 1_000_000);
    const calls = Number(process.env.URING_FUZZ_CALLS) || 10_000;
    t.diagnostic(`seed ${seed} (replay with URING_FUZZ_SEED=${seed})`);
    const report = runFuzzChild(calls, seed, 120_000);
    t.diagnostic(`${report.calls} calls in ${report.ms} ms: ${report.refused} refused, ${report.accepted} submitted; codes ${JSON.stringify(report.codes)}`);
    assert.deepEqual(report.failures, [], `seed ${seed}`);
    assert.equal(report.calls, calls);
    assert.ok(report.refused > 0 && report.accepted > 0, 'both refused and submitted calls were made');
  });
});
