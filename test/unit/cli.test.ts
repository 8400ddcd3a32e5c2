// The uring command's parsing and rendering, without the kernel.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs, parseSize, parseSeconds, UsageError, defaultVariants } from '../../src/cli/bench-options';
import { variantName } from '../../src/cli/bench-variants';
import { renderChart, niceStep, compact, escapeXml } from '../../src/cli/chart';
import { progressLine, startProgress } from '../../src/cli/progress';
import { kernelVersion, seccompStatus, DoctorReport } from '../../src/cli/doctor';
import { formatDoctor } from '../../src/cli/doctor-text';
import { QUIRKS, applicableQuirks, atLeast, QuirkContext } from '../../src/cli/quirks';
import type { VariantSummary } from '../../src/bench/harness';
import { LatencySampler } from '../../src/bench/harness';
import { assertWellFormedSvg } from './cli-svg';

describe('uring bench options', () => {
  it('defaults to 4 KiB random reads, 32 in flight, and the four-variant comparison', () => {
    const c = parseBenchArgs([]);
    assert.equal(c.rw, 'randread');
    assert.equal(c.bs, 4096);
    assert.equal(c.iodepth, 32);
    assert.equal(c.threads, 1);
    assert.deepEqual(c.variants.map(variantName),
      ['node:fs/promises', 'uring', 'uring fixed-file', 'uring fixed-file+fixed-buffers']);
  });

  it('parses fio-like options, with values after a space or an equals sign', () => {
    const c = parseBenchArgs(['--rw=write', '--bs', '64k', '--iodepth', '8', '--size=16m', '--runtime', '500ms',
      '--threads', '2', '--json', '--chart', 'x.svg']);
    assert.equal(c.rw, 'write');
    assert.equal(c.bs, 65536);
    assert.equal(c.iodepth, 8);
    assert.equal(c.size, 16 << 20);
    assert.equal(c.runtime, 0.5);
    assert.equal(c.threads, 2);
    assert.equal(c.json, true);
    assert.equal(c.chart, 'x.svg');
  });

  it('--engine and the uring modifiers select exactly the variants asked for', () => {
    assert.deepEqual(parseBenchArgs(['--engine', 'node']).variants, [{ engine: 'node' }]);
    assert.deepEqual(parseBenchArgs(['--sqpoll', '--fixed-files']).variants.map(variantName),
      ['node:fs/promises', 'uring fixed-file+sqpoll']);
    assert.deepEqual(parseBenchArgs(['--engine', 'uring', '--fixed-buffers']).variants.map(variantName),
      ['uring fixed-buffers']);
    assert.deepEqual(defaultVariants('readfile').map(variantName), ['node:fs/promises', 'uring']);
  });

  it('refuses wrong options with a UsageError', () => {
    for (const argv of [['--rw', 'mixed'], ['--bs', 'lots'], ['--iodepth', '0'], ['--threads', '1.5'],
      ['--engine', 'spdk'], ['--engine', 'node', '--sqpoll'], ['--rw', 'readfile', '--fixed-files'],
      ['--bs', '2m', '--size', '1m'], ['--chart', 'x.png'], ['--nope'], ['--bs']]) {
      assert.throws(() => parseBenchArgs(argv), UsageError, argv.join(' '));
    }
  });

  it('parseSize() and parseSeconds() read human units', () => {
    assert.equal(parseSize('4k', 'x'), 4096);
    assert.equal(parseSize('1MiB', 'x'), 1 << 20);
    assert.equal(parseSize('2G', 'x'), 2 * 1024 ** 3);
    assert.equal(parseSize('512', 'x'), 512);
    assert.equal(parseSeconds('3', 'x'), 3);
    assert.equal(parseSeconds('250ms', 'x'), 0.25);
    assert.throws(() => parseSeconds('0', 'x'), UsageError);
  });
});

describe('uring bench chart', () => {
  const rows: VariantSummary[] = [
    { workload: 'randread', variant: 'node:fs/promises', ops_per_sec: 100000, ratio_vs_baseline: 1, baseline: 'node:fs/promises', rounds: 3, samples: [1, 2, 3], cpu_us_per_op: 9.5, p50_us: 200, p99_us: 1500, p999_us: 3000, mb_per_sec: 409.6 },
    { workload: 'randread', variant: 'uring <fixed> & "buffers"', ops_per_sec: 800000, ratio_vs_baseline: 8, baseline: 'node:fs/promises', rounds: 3, samples: [1, 2, 3], cpu_us_per_op: 1.1, p50_us: 20, p99_us: 80, p999_us: 300 },
  ];

  it('renders a well-formed SVG with a title, one bar per variant, values and ratios', () => {
    const svg = renderChart(rows, { title: 'uring bench: randread', subtitle: '4 KiB & more' });
    assertWellFormedSvg(svg);
    assert.match(svg, /<title>uring bench: randread<\/title>/);
    assert.equal((svg.match(/<rect [^>]*rx="4"/g) ?? []).length, 2, 'two bars');
    assert.match(svg, /100,000 ops\/s/);
    assert.match(svg, /800,000 ops\/s/);
    assert.match(svg, /8\.00×/);
    assert.match(svg, />baseline</);
    assert.match(svg, /uring &#60;fixed&#62; &#38; &#34;buffers&#34;/);
  });

  it('the longest bar is proportional to its value on a round axis', () => {
    const svg = renderChart(rows, { title: 't' });
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)" height="30"/g)].map((m) => Number(m[1]));
    assert.equal(widths.length, 2);
    assert.ok(Math.abs(widths[1]! / widths[0]! - 8) < 0.05);
  });

  it('niceStep(), compact() and escapeXml() make readable axes and safe text', () => {
    assert.equal(niceStep(1000), 200);
    assert.equal(niceStep(1_200_000), 250000);
    assert.equal(niceStep(0), 1);
    assert.equal(compact(1_250_000), '1.25M');
    assert.equal(compact(12_345), '12.3k');
    assert.equal(escapeXml('<a & "b">'), '&#60;a &#38; &#34;b&#34;&#62;');
  });
});

describe('uring bench progress bar and latency sampling', () => {
  it('progressLine() fits the terminal and shows the percentage', () => {
    const line = progressLine(0.5, 'uring fixed-file', 60);
    assert.ok(line.length < 60);
    assert.match(line, / 50%  uring fixed-file$/);
    assert.match(progressLine(2, '', 80), /100%/);
  });

  it('draws nothing when stderr is not a terminal', () => {
    let wrote = 0;
    const p = startProgress(1000, { isTTY: false, write: () => { wrote++; return true; } });
    p.label('x');
    p.done();
    assert.equal(wrote, 0);
  });

  it('LatencySampler times one operation in `every` and hands the samples over once', async () => {
    const s = new LatencySampler(2, 8);
    const op = s.wrap(async (x: number) => x * 2);
    for (let k = 0; k < 10; k++) assert.equal(await op(k), k * 2);
    const got = s.take();
    assert.equal(got.length, 5);
    for (const v of got) assert.ok(v >= 0);
    assert.equal(s.take().length, 0);
  });
});

describe('uring doctor helpers', () => {
  it('kernelVersion() reads distribution release strings', () => {
    assert.deepEqual(kernelVersion('6.8.0-45-generic'), [6, 8, 0]);
    assert.deepEqual(kernelVersion('5.15.153.1-microsoft-standard-WSL2'), [5, 15, 153]);
    assert.deepEqual(kernelVersion('4.4.0'), [4, 4, 0]);
    assert.deepEqual(kernelVersion('weird'), [0, 0, 0]);
  });

  it('seccompStatus() reads the mode and filter count from /proc/self/status', () => {
    assert.deepEqual(seccompStatus('Name:\tnode\nSeccomp:\t2\nSeccomp_filters:\t1\n'), { mode: 2, filters: 1 });
    assert.deepEqual(seccompStatus('Name:\tnode\n'), { mode: null, filters: null });
  });

  it('quirks are keyed by kernel version, feature bits and setup results', () => {
    const ctx = (kernel: [number, number, number], sqpollNonfixed: boolean, defer: boolean): QuirkContext => ({
      kernel, ops: new Set(['CLOSE']), setup: { SQPOLL: true, DEFER_TASKRUN: defer, SINGLE_ISSUER: defer },
      features: { sqpollNonfixed, nodrop: true, rwCurPos: true, extArg: sqpollNonfixed, rsrcTags: false } as never,
    });
    const ids = (c: QuirkContext): string[] => applicableQuirks(c).map((q) => q.id);
    assert.ok(ids(ctx([6, 8, 0], true, true)).includes('ring-fd-scm-rights'));
    assert.ok(!ids(ctx([6, 6, 0], true, true)).includes('ring-fd-scm-rights'));
    assert.ok(ids(ctx([5, 10, 0], false, false)).includes('sqpoll-fixed-files-only'));
    assert.ok(ids(ctx([5, 10, 0], false, false)).includes('defer-taskrun-missing'));
    assert.ok(!ids(ctx([6, 1, 0], true, true)).includes('defer-taskrun-missing'));
    assert.ok(ids(ctx([6, 1, 0], true, true)).includes('getevents-eintr'));
    assert.ok(atLeast([6, 1, 0], 5, 19) && !atLeast([5, 19, 9], 6, 0));
    assert.equal(new Set(QUIRKS.map((q) => q.id)).size, QUIRKS.length, 'ids are unique');
  });

  it('formatDoctor() explains an unusable machine: reason, cause and fix', () => {
    const r: DoctorReport = {
      platform: 'linux', arch: 'x64', node: 'v20.0.0', kernel: { release: '6.8.0', version: [6, 8, 0] },
      usable: false,
      unavailable: { reason: 'eperm', message: 'io_uring is unavailable (eperm): io_uring_setup returned EPERM.', hint: 'Check kernel.io_uring_disabled.', errno: 'EPERM', cause: 'a seccomp filter is active' },
      ioUringDisabled: 0, seccomp: { mode: 2, filters: 1 },
      opcodes: { lastOp: null, supported: [], unsupported: [] },
      limits: { nofile: { soft: 1024, hard: null }, memlock: null, fileTable: { now: 1024, max: 1048576, kernelMax: 1048576 } },
      setupFlags: {}, quirks: [],
    };
    const text = formatDoctor(r);
    assert.match(text, /NOT usable \(eperm\)/);
    assert.match(text, /seccomp\s+filter \(1 filters\)/);
    assert.match(text, /Cause: a seccomp filter is active/);
    assert.match(text, /Check kernel\.io_uring_disabled/);
    assert.match(text, /1,024 \(hard unlimited\)/);
  });
});
