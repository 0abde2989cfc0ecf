// Reading MPDs in worker threads is bounded: at most MAX_THREADS run at once, MAX_WAITING
// more wait their turn, and any beyond are refused as busy rather than each starting a
// thread of up to 256 MB.

import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { MAX_THREADS, MAX_WAITING, mpdThreadsRunning, readMpdInThread } from './dash-thread';

const MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <Representation id="0" bandwidth="100000" width="320" height="240" codecs="avc1.64000d">
        <SegmentTemplate timescale="1000" duration="2000" initialization="init-$RepresentationID$.m4s" media="chunk-$RepresentationID$-$Number$.m4s" startNumber="1"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`;

describe('reading MPDs in threads', () => {
  it('runs a bounded number at once, queues some, and refuses the rest as busy', async () => {
    const total = MAX_THREADS + MAX_WAITING + 3;
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, mpdThreadsRunning())), 1);
    const results = await Promise.allSettled(
      Array.from({ length: total }, () =>
        readMpdInThread({
          text: MPD,
          manifestUri: 'https://origin.test/a/manifest.mpd',
          key: 'v0',
          maxSegments: 1000,
        }),
      ),
    );
    clearInterval(sampler);
    const busy = results.filter(
      (r) => r.status === 'rejected' && isKeepsakeError(r.reason, 'SERVER_BUSY'),
    );
    const read = results.filter((r) => r.status === 'fulfilled');
    expect(busy).toHaveLength(3);
    expect(read).toHaveLength(MAX_THREADS + MAX_WAITING);
    for (const r of read) {
      expect((r as PromiseFulfilledResult<{ media: string }>).value.media).toContain(
        'chunk-0-3.m4s',
      );
    }
    expect(most).toBe(MAX_THREADS);
    // Every slot is given back.
    expect(mpdThreadsRunning()).toBe(0);
  }, 60_000);
});

/** A one-representation MPD whose segments `segments` (SegmentTemplate or SegmentBase) describe. */
function mpdWith(segments: string): string {
  return `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S"><Period>
<AdaptationSet contentType="video" mimeType="video/mp4"><Representation id="0" bandwidth="100000" width="320" height="240" codecs="avc1.64000d">
<BaseURL>https://origin.test/a/</BaseURL>${segments}</Representation></AdaptationSet></Period></MPD>`;
}

const read = (text: string, maxSegments: number) =>
  readMpdInThread({ text, manifestUri: 'https://origin.test/a/m.mpd', key: 'v0', maxSegments });

describe('the segment cap counts as mpd-parser expands', () => {
  // Each is under 1 KB and used to expand into tens of millions of segments (the thread
  // ran out of its 256 MB heap after a second or two, per request) despite the cap.
  const inflated = {
    'an endNumber': `<SegmentTemplate timescale="1000" duration="2000" media="c-$Number$.m4s" endNumber="50000000"/>`,
    'an S@r of -1 running to the next S@t': `<SegmentTemplate timescale="1000" media="c-$Time$.m4s"><SegmentTimeline><S t="0" d="1" r="-1"/><S t="50000000" d="1"/></SegmentTimeline></SegmentTemplate>`,
    'a negative first S@t': `<SegmentTemplate timescale="1000" media="c-$Time$.m4s"><SegmentTimeline><S t="-50000000" d="1" r="-1"/></SegmentTimeline></SegmentTemplate>`,
    'a SegmentBase with a tiny duration': `<SegmentBase timescale="1000000" duration="1" indexRange="0-99"/>`,
  };
  for (const [what, segments] of Object.entries(inflated)) {
    it(`refuses ${what} before expanding it`, async () => {
      const started = performance.now();
      const err = await read(mpdWith(segments), 500_000).catch((e: unknown) => e);
      expect(isKeepsakeError(err, 'DASH_UNSUPPORTED')).toBe(true);
      expect((err as Error).message).toMatch(/describes \d+ segments \(at most 500000\)/);
      expect(performance.now() - started).toBeLessThan(5_000);
    });
  }

  it('counts exactly: an endNumber and an S@r of -1 list what they say, no more', async () => {
    const byEnd = mpdWith(
      `<SegmentTemplate timescale="1000" duration="2000" media="c-$Number$.m4s" endNumber="2"/>`,
    );
    const byTime = mpdWith(
      `<SegmentTemplate timescale="1000" media="c-$Time$.m4s"><SegmentTimeline><S t="0" d="1000" r="-1"/><S t="4000" d="2000"/></SegmentTimeline></SegmentTemplate>`,
    );
    for (const [text, count] of [
      [byEnd, 2], // where the duration alone would make 3
      [byTime, 5],
    ] as const) {
      const out = await read(text, count);
      expect('media' in out && out.media.match(/^#EXTINF/gm)).toHaveLength(count);
      await expect(read(text, count - 1)).rejects.toThrow(`describes ${count} segments`);
    }
  });
});
