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
