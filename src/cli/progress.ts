// A one-line progress bar on a terminal's stderr. It advances with elapsed
// time against the expected duration and names the variant being measured;
// on anything but a TTY it draws nothing.

/** A running progress bar. */
export interface Progress {
  /** Names what is running now. */
  label(text: string): void;
  /** Erases the bar. */
  done(): void;
}

/** What the bar draws on: a stream with `isTTY` and `columns`. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

/** Renders one frame: `[#####-----]  45%  label`, fitted into `width` columns. */
export function progressLine(fraction: number, label: string, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const pct = `${Math.floor(f * 100)}%`.padStart(4);
  const barWidth = Math.max(10, Math.min(40, width - label.length - 10));
  const full = Math.round(f * barWidth);
  const line = `[${'█'.repeat(full)}${'░'.repeat(barWidth - full)}] ${pct}  ${label}`;
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

/** Starts a bar expected to take `expectedMs`, or a silent one when `stream` is not a TTY. */
export function startProgress(expectedMs: number, stream: ProgressStream = process.stderr): Progress {
  if (!stream.isTTY) return { label() { /* silent */ }, done() { /* silent */ } };
  const start = performance.now();
  let text = '';
  const draw = (): void => {
    const f = Math.min(0.99, (performance.now() - start) / expectedMs);
    stream.write(`\r${progressLine(f, text, stream.columns ?? 80)}\x1b[K`);
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    label(t) { text = t; draw(); },
    done() { clearInterval(timer); stream.write('\r\x1b[K'); },
  };
}
