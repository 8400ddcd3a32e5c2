// FileHandle.readableWebStream() as the running Node gives it: a web
// ReadableStream of the file from its current position, read through the
// handle. Node locks the handle for good once it has given one stream
// (ERR_INVALID_STATE 'The FileHandle is locked'). Its chunks are ArrayBuffers
// in Node 20 (a StreamBase adapter) and Uint8Arrays with { type: 'bytes' };
// which kind the default stream gives is asked of node:fs/promises once, not
// assumed from a version number.
import * as fsp from 'node:fs/promises';
import { ReadableStream } from 'node:stream/web';
import { invalidArgType } from '../errors';

/** What the stream reads through: the handle's read(). */
export interface ByteSource {
  read(buffer: Uint8Array, offset: number, length: number, position: null): Promise<{ bytesRead: number }>;
}

const CHUNK = 64 * 1024;
const BYTES_CHUNK = 16 * 1024;

let kind: Promise<'ArrayBuffer' | 'Uint8Array'> | undefined;

/** The type of the chunks of Node's own default readableWebStream(), found by reading one chunk of /proc/self/stat. */
function chunkKind(): Promise<'ArrayBuffer' | 'Uint8Array'> {
  kind ??= (async () => {
    const h = await fsp.open('/proc/self/stat');
    try {
      const s = (h as unknown as { readableWebStream(): ReadableStream }).readableWebStream();
      // Read to the end: Node 20 closes the handle natively when its stream
      // is cancelled, and a close() after that aborts the process.
      let first: unknown;
      for await (const chunk of s) first ??= chunk;
      return first instanceof ArrayBuffer ? 'ArrayBuffer' : 'Uint8Array';
    } catch {
      return 'ArrayBuffer';
    } finally {
      await h.close();
    }
  })();
  return kind;
}

/** ERR_INVALID_STATE, worded and shaped as Node's. */
export function invalidState(message: string): Error & { code: string } {
  const err = new Error(`Invalid state: ${message}`) as Error & { code: string };
  err.code = 'ERR_INVALID_STATE';
  err.stack = err.stack?.replace(/^Error/, 'Error [ERR_INVALID_STATE]');
  return err;
}

/** The `type` of readableWebStream(options): undefined or a string; read once. */
export function streamType(options: unknown): unknown {
  const { type } = (options ?? {}) as { type?: unknown };
  if (type !== undefined && typeof type !== 'string') throw invalidArgType('options.type', 'of type string', type);
  return type;
}

/** A web stream of `src` from its file position to a read of 0. */
export function webStream(src: ByteSource, type: unknown): ReadableStream {
  if (type === 'bytes') {
    return new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: BYTES_CHUNK,
      async pull(c) {
        const b = new Uint8Array(BYTES_CHUNK);
        const { bytesRead } = await src.read(b, 0, BYTES_CHUNK, null);
        if (bytesRead === 0) {
          c.close();
          c.byobRequest?.respond(0);
        } else {
          c.enqueue(b.subarray(0, bytesRead));
        }
      },
    });
  }
  return new ReadableStream({
    async pull(c) {
      const k = await chunkKind();
      const b = new Uint8Array(CHUNK);
      const { bytesRead } = await src.read(b, 0, CHUNK, null);
      if (bytesRead === 0) { c.close(); return; }
      c.enqueue(k === 'ArrayBuffer' ? b.buffer.slice(0, bytesRead) : b.slice(0, bytesRead));
    },
  });
}
