// `uring bench --chart FILE.svg`: the comparison as a horizontal bar chart.
// Plain SVG written by hand: one bar per variant with its ops/s, its ratio to
// the baseline, and its latency and CPU figures under the name.
import type { VariantSummary } from '../bench/harness';

/** Chart text that is not in the rows. */
export interface ChartOptions {
  title: string;
  /** A line under the title (what one operation is, the machine). */
  subtitle?: string;
}

const PALETTE = ['#2563eb', '#0d9488', '#7c3aed', '#db2777', '#ea580c', '#0891b2'];
const BASELINE_COLOR = '#94a3b8';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A round step for about `target` ticks up to `max`: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(max: number, target = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** 1234567 -> "1.23M", 12345 -> "12.3k". */
export function compact(n: number): string {
  const a = Math.abs(n);
  const f = (v: number, s: string): string => `${Number(v.toPrecision(3))}${s}`;
  if (a >= 1e9) return f(n / 1e9, 'G');
  if (a >= 1e6) return f(n / 1e6, 'M');
  if (a >= 1e3) return f(n / 1e3, 'k');
  return String(Number(n.toPrecision(3)));
}

/** 3 significant digits in µs, or ms from 1000 µs. */
export function duration(us: number): string {
  return us >= 1000 ? `${Number((us / 1000).toPrecision(3))} ms` : `${Number(us.toPrecision(3))} µs`;
}

function detail(r: VariantSummary): string {
  const parts: string[] = [];
  if (r.p50_us !== undefined) parts.push(`p50 ${duration(r.p50_us)}`);
  if (r.p99_us !== undefined) parts.push(`p99 ${duration(r.p99_us)}`);
  if (r.cpu_us_per_op !== undefined) parts.push(`CPU ${duration(r.cpu_us_per_op)}/op`);
  return parts.join(' · ');
}

/** Draws `rows` (one workload's summaries) as an SVG document. */
export function renderChart(rows: readonly VariantSummary[], o: ChartOptions): string {
  const W = 920;
  const left = 290;
  const right = 210;
  const top = o.subtitle ? 84 : 64;
  const barH = 30;
  const rowH = 58;
  const plotW = W - left - right;
  const plotH = rows.length * rowH;
  const H = top + plotH + 64;
  const max = Math.max(1, ...rows.map((r) => r.ops_per_sec));
  const step = niceStep(max);
  const axisMax = Math.ceil(max / step) * step;
  const x = (v: number): number => left + (v / axisMax) * plotW;
  const baseline = rows[0]?.baseline;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family='${FONT}' role="img" aria-label="${escapeXml(o.title)}">`);
  out.push(`<title>${escapeXml(o.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="24" y="36" font-size="20" font-weight="700" fill="#0f172a">${escapeXml(o.title)}</text>`);
  if (o.subtitle) out.push(`<text x="24" y="60" font-size="13" fill="#64748b">${escapeXml(o.subtitle)}</text>`);
  // Grid and axis.
  out.push('<g font-size="11" fill="#64748b" text-anchor="middle">');
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const gx = x(v).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${top + plotH}" stroke="${v === 0 ? '#334155' : '#e2e8f0'}" stroke-width="1"${v === 0 ? '' : ' stroke-dasharray="3 3"'}/>`);
    out.push(`<text x="${gx}" y="${top + plotH + 18}">${compact(v)}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 42}" font-size="12" fill="#475569" text-anchor="middle">operations per second (median of ${rows[0]?.rounds ?? 0} rounds; longer is better)</text>`);
  let colour = 0;
  rows.forEach((r, k) => {
    const y = top + k * rowH;
    const isBase = r.variant === baseline;
    const fill = isBase ? BASELINE_COLOR : PALETTE[colour++ % PALETTE.length]!;
    const bw = Math.max(2, x(r.ops_per_sec) - left);
    const cy = y + barH / 2;
    out.push('<g>');
    out.push(`<text x="${left - 14}" y="${cy - 2}" font-size="14" font-weight="600" fill="#0f172a" text-anchor="end">${escapeXml(r.variant)}</text>`);
    const d = detail(r);
    if (d) out.push(`<text x="${left - 14}" y="${cy + 15}" font-size="11" fill="#64748b" text-anchor="end">${escapeXml(d)}</text>`);
    out.push(`<rect x="${left}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" rx="4" fill="${fill}"/>`);
    const vx = left + bw + 8;
    const value = `${Math.round(r.ops_per_sec).toLocaleString('en-US')} ops/s`;
    out.push(`<text x="${vx.toFixed(1)}" y="${cy + 5}" font-size="13" font-weight="600" fill="#0f172a">${escapeXml(value)}</text>`);
    const ratio = isBase ? 'baseline' : `${r.ratio_vs_baseline.toFixed(2)}×`;
    const good = r.ratio_vs_baseline >= 1;
    const pillX = vx + value.length * 8 + 6;
    const pillW = ratio.length * 7.6 + 16;
    const [bg, fg] = isBase ? ['#f1f5f9', '#475569'] : good ? ['#dcfce7', '#166534'] : ['#fee2e2', '#991b1b'];
    out.push(`<rect x="${pillX.toFixed(1)}" y="${cy - 10}" width="${pillW.toFixed(1)}" height="20" rx="10" fill="${bg}"/>`);
    out.push(`<text x="${(pillX + pillW / 2).toFixed(1)}" y="${cy + 4}" font-size="12" font-weight="700" fill="${fg}" text-anchor="middle">${escapeXml(ratio)}</text>`);
    if (r.mb_per_sec !== undefined) {
      out.push(`<text x="${left + 6}" y="${y + barH + 14}" font-size="11" fill="#64748b">${escapeXml(`${Math.round(r.mb_per_sec).toLocaleString('en-US')} MB/s`)}</text>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
