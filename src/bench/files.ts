// Test data for the benchmarks: generated once per machine in the temp
// directory and reused, so a run measures reads from the page cache.
import { openSync, writeSync, closeSync, statSync, mkdirSync, renameSync, readSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export function benchDir(): string {
  const d = process.env.URING_BENCH_DIR ?? join(tmpdir(), 'uring-bench');
  mkdirSync(d, { recursive: true });
  return d;
}

/** A file of `size` bytes of non-zero data (holes would skip the page cache). */
export function dataFile(size: number, name = `data-${size}.bin`): string {
  const path = join(benchDir(), name);
  try {
    if (statSync(path).size === size) {
      warm(path, size);
      return path;
    }
  } catch { /* create it */ }
  const tmp = `${path}.${process.pid}.tmp`;
  fillFile(tmp, size);
  renameSync(tmp, path);
  return path;
}

/** Writes `size` bytes of non-zero data to `path` (created or truncated). */
export function fillFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(Math.min(1 << 20, Math.max(4, size)));
  for (let i = 0; i + 4 <= chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  chunk.fill(0x5a, chunk.length & ~3);
  for (let off = 0; off < size; off += chunk.length) {
    writeSync(fd, chunk, 0, Math.min(chunk.length, size - off), off);
  }
  closeSync(fd);
}

/** Reads the file once so that it is in the page cache. */
function warm(path: string, size: number): void {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  for (let off = 0; off < size; off += chunk.length) readSync(fd, chunk, 0, chunk.length, off);
  closeSync(fd);
}

/** `files` files of `size` bytes of `fill` in benchDir()/`dir`, created once, reused, and read into the page cache. */
export function fileSet(dir: string, files: number, size: number, fill: number): string[] {
  const d = join(benchDir(), dir);
  const paths = Array.from({ length: files }, (_, k) => join(d, `f${k}`));
  if (!existsSync(paths[paths.length - 1]!)) {
    mkdirSync(d, { recursive: true });
    const data = Buffer.alloc(size, fill);
    for (const p of paths) writeFileSync(p, data);
  }
  for (const p of paths) readFileSync(p);
  return paths;
}
