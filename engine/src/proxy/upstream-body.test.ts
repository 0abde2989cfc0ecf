import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UpstreamBody } from './upstream-body';

/** A body as the dispatch handler drives it, recording resumes and aborts. */
function body() {
  const calls = { resumes: 0, aborts: [] as (Error | undefined)[], bytes: 0 };
  const b = new UpstreamBody((n) => (calls.bytes += n));
  b.attach(
    () => calls.resumes++,
    (why) => calls.aborts.push(why),
  );
  return { b, calls };
}

/** A sink that holds writes until released, like a client socket that is full. */
function slowSink() {
  const got: Buffer[] = [];
  let release: (() => void) | undefined;
  const sink = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _enc, done) {
      got.push(chunk);
      release = done;
    },
  });
  return {
    sink,
    got,
    release: () => {
      const done = release;
      release = undefined;
      done?.();
    },
  };
}

describe('UpstreamBody', () => {
  it('writes straight into a piped sink, pausing the upstream while the sink is full', async () => {
    const { b, calls } = body();
    const { sink, got, release } = slowSink();
    b.pipe(sink);
    expect(calls.resumes).toBe(1); // piping starts the paused upstream
    expect(b.chunk(Buffer.from('hello'))).toBe(false); // over the sink's mark: pause
    release();
    await new Promise((r) => setImmediate(r));
    expect(calls.resumes).toBe(2); // drained: resumed
    expect(b.chunk(Buffer.from('!'))).toBe(true);
    release();
    const ended = new Promise((r) => b.once('end', r));
    const finished = new Promise((r) => sink.once('finish', r));
    b.complete();
    await Promise.all([ended, finished]);
    expect(Buffer.concat(got).toString()).toBe('hello!');
    expect(calls.bytes).toBe(6);
    expect(calls.aborts).toEqual([]);
  });

  it('cuts the upstream when the sink closes first', async () => {
    const { b, calls } = body();
    const { sink } = slowSink();
    b.pipe(sink);
    b.chunk(Buffer.from('part'));
    sink.destroy();
    await new Promise((r) => setImmediate(r));
    expect(calls.aborts).toHaveLength(1);
    expect(b.destroyed).toBe(true);
  });

  it('is an ordinary Readable for a reader, and an upstream failure reaches it', async () => {
    const { b } = body();
    setImmediate(() => {
      b.chunk(Buffer.from('a'));
      b.chunk(Buffer.from('b'));
      b.complete();
    });
    const parts: string[] = [];
    for await (const chunk of b) parts.push(String(chunk));
    expect(parts.join('')).toBe('ab');

    const failing = body().b;
    setImmediate(() => failing.fail(new Error('socket hang up')));
    await expect(async () => {
      for await (const _ of failing) void _;
    }).rejects.toThrow('socket hang up');
  });

  it('dumps a small rest without counting it, and cuts a large one', async () => {
    const small = body();
    const dumped = small.b.dump({ limit: 10 });
    small.b.chunk(Buffer.from('12345'));
    small.b.complete();
    await dumped;
    expect(small.calls.bytes).toBe(0);
    expect(small.calls.aborts).toEqual([]);

    const large = body();
    const cut = large.b.dump({ limit: 4 });
    large.b.chunk(Buffer.from('12345'));
    await cut;
    expect(large.calls.aborts).toHaveLength(1);
  });
});
