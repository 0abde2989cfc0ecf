import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * A writable that appends to an open handle and leaves it open (the atomic-file owner
 * syncs and closes it). Loops on short writes, which regular files allow.
 */
export function fileSink(handle: FileHandle): Writable {
  const writeAll = async (data: Buffer) => {
    for (let done = 0; done < data.length;) {
      done += (await handle.write(data, done, data.length - done)).bytesWritten;
    }
  };
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, callback) {
      writeAll(chunk).then(() => callback(), callback);
    },
    writev(chunks, callback) {
      writeAll(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(
        () => callback(),
        callback,
      );
    },
  });
}
