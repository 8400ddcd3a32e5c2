// The human-readable form of a doctor report.
import type { DoctorReport, Limit } from './doctor';

function lim(l: Limit | null, unit = ''): string {
  if (!l) return 'unknown';
  const f = (v: number | null): string => (v === null ? 'unlimited' : `${v.toLocaleString('en-US')}${unit}`);
  return `${f(l.soft)} (hard ${f(l.hard)})`;
}

function wrap(words: string[], width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

/** Formats a report for a terminal. */
export function formatDoctor(r: DoctorReport): string {
  const out: string[] = [];
  const row = (k: string, v: string): number => out.push(`  ${k.padEnd(22)}${v}`);
  out.push(r.usable ? 'io_uring: usable' : `io_uring: NOT usable (${r.unavailable?.reason ?? 'other'})`);
  row('kernel', r.kernel.release);
  row('platform', `${r.platform} ${r.arch}, Node ${r.node}`);
  if (r.addon) row('addon', `${r.addon.file} (${r.addon.kind === 'prebuild' ? 'prebuilt' : 'built from source'})`);
  row('io_uring_disabled', r.ioUringDisabled === null ? 'not present (kernel before 6.6)' : String(r.ioUringDisabled));
  row('seccomp', r.seccomp.mode === null ? 'unknown'
    : ['off', 'strict', `filter (${r.seccomp.filters ?? '?'} filters)`][r.seccomp.mode] ?? String(r.seccomp.mode));
  if (r.unavailable) {
    out.push('', 'Why:');
    out.push(`  ${r.unavailable.message}`);
    if (r.unavailable.cause) out.push(`  Cause: ${r.unavailable.cause}`);
    out.push('', 'Fix:', wrap(r.unavailable.hint.split(' '), 76, '  '));
  }
  if (r.ring) {
    out.push('', `Ring: ${r.ring.sqEntries} SQ / ${r.ring.cqEntries} CQ entries, features 0x${r.ring.featureBits.toString(16)}`);
    const on = Object.entries(r.ring.features).filter(([, v]) => v).map(([k]) => k);
    const off = Object.entries(r.ring.features).filter(([, v]) => !v).map(([k]) => k);
    out.push(wrap(`has: ${on.join(', ')}`.split(' '), 76, '  '));
    if (off.length) out.push(wrap(`lacks: ${off.join(', ')}`.split(' '), 76, '  '));
    out.push('', `Opcodes: ${r.opcodes.supported.length} supported (last op ${r.opcodes.lastOp ?? '?'})`);
    out.push(wrap(r.opcodes.supported.join(' ').split(' '), 76, '  '));
    if (r.opcodes.unsupported.length) {
      out.push(`  not supported: ${r.opcodes.unsupported.join(', ')}`);
    }
    out.push('', 'Setup flags:');
    const flags = Object.entries(r.setupFlags);
    out.push(wrap(flags.map(([k, v]) => (v.ok ? `${k} ok` : `${k} ${v.error}`)).map((s) => s.replace(/ /, ':')).join(', ').split(' '), 76, '  '));
  }
  out.push('', 'Limits:');
  row('RLIMIT_NOFILE', lim(r.limits.nofile));
  row('RLIMIT_MEMLOCK', lim(r.limits.memlock, ' B'));
  const ft = r.limits.fileTable;
  row('file table', ft ? `up to ${ft.now.toLocaleString('en-US')} slots now, ${ft.max.toLocaleString('en-US')} after raising the soft limit (kernel max ${ft.kernelMax.toLocaleString('en-US')})` : 'unknown');
  if (r.quirks.length) {
    out.push('', 'Kernel behaviours that apply here:');
    for (const q of r.quirks) {
      out.push(`  - ${q.title} [${q.id}]`);
      out.push(wrap(q.detail.split(' '), 74, '    '));
    }
  }
  return out.join('\n');
}
