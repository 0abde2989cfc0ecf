// mpd-parser (videojs) ships no types. It runs in a worker thread (dash-thread.ts), which
// takes the module as `any`; only the parsed segment index, which the proxy builds from the
// sidx box it fetches (dash-sidx.ts) and hands to the worker, is typed here.
declare module 'mpd-parser' {
  export interface MpdSidx {
    timescale: number;
    firstOffset: number;
    references: { referenceType: number; referencedSize: number; subsegmentDuration: number }[];
  }
}
