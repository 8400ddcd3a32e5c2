// The API fuzzer, short run: 10,000 random calls with hostile arguments
// (`npm run fuzz` runs 100,000). It runs in a child process so that a crash
// or a hang shows as such. URING_FUZZ_SEED replays a run; URING_FUZZ_CALLS
// changes its length; URING_FUZZ_FAMILIES (views,getters,reentry,proxies)
// picks the hostile input families (default all). It stops after three
// failing batches, and gives a batch's promises 3 s to settle, so that a
// run that finds hangs still ends within about a minute.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { optionsFromEnv, replayCommand, runFuzzChild } from './child';
import { publicMethods, SPECS } from './engine';

describe('API fuzzing', () => {
  it('every promise-returning Ring method has argument generators (others get generic ones)', (t) => {
    const generic = publicMethods().filter((m) => !(m in SPECS));
    if (generic.length) t.diagnostic(`fuzzed with generic arguments: ${generic.join(', ')}`);
    assert.ok(publicMethods().length >= Object.keys(SPECS).length - generic.length);
    for (const m of Object.keys(SPECS)) assert.ok(publicMethods().includes(m), `${m} is a public method`);
  });

  it('10,000 hostile calls (lying views, fickle and re-entrant getters, Proxy arrays): no crash, no hang, typed errors, '
    + 'refused calls consume no SQE, no write outside a real view, every promise settles once', (t) => {
    const seed = Number(process.env.URING_FUZZ_SEED) || (Date.now() % 1_000_000);
    const calls = Number(process.env.URING_FUZZ_CALLS) || 10_000;
    const options = optionsFromEnv({ settleMs: 3000, budgetMs: 40_000 });
    t.diagnostic(`seed ${seed} (replay with ${replayCommand(calls, seed, options)})`);
    const report = runFuzzChild(calls, seed, 90_000, options);
    t.diagnostic(`${report.calls} calls in ${report.ms} ms: ${report.refused} refused, ${report.accepted} submitted; codes ${JSON.stringify(report.codes)}`);
    if (Object.keys(report.kinds).length) t.diagnostic(`failures by kind: ${JSON.stringify(report.kinds)}${report.stopped ? `; ${report.stopped}` : ''}`);
    assert.deepEqual(report.failures, [], `seed ${seed}: ${replayCommand(calls, seed, options)}`);
    assert.equal(report.calls, calls, report.stopped);
    assert.ok(report.refused > 0 && report.accepted > 0, 'both refused and submitted calls were made');
  });
});
