// Types for the parts of mpd-parser (videojs, no types of its own) that dash-to-hls.ts
// uses. Its manifest object is m3u8-parser's shape; only the fields read here are named.
declare module 'mpd-parser' {
  export interface MpdByteRange {
    length: number | bigint;
    offset: number | bigint;
  }
  export interface MpdSegment {
    resolvedUri: string;
    duration: number;
    byterange?: MpdByteRange;
    map?: { resolvedUri: string; byterange?: MpdByteRange };
    discontinuity?: boolean;
  }
  export interface MpdPlaylist {
    attributes: {
      NAME?: string;
      BANDWIDTH?: number;
      CODECS?: string;
      RESOLUTION?: { width: number; height: number };
      'FRAME-RATE'?: number;
    };
    segments: MpdSegment[];
    sidx?: {
      resolvedUri: string;
      byterange: MpdByteRange;
      map?: { resolvedUri: string; byterange?: MpdByteRange };
    };
  }
  export interface MpdRendition {
    language?: string;
    default?: boolean;
    autoselect?: boolean;
    playlists: MpdPlaylist[];
  }
  export interface MpdManifest {
    duration?: number;
    playlists?: MpdPlaylist[];
    mediaGroups?: { AUDIO?: Record<string, Record<string, MpdRendition>> };
  }
  export interface MpdSegmentInfo {
    template?: { duration?: number; timescale?: number; media?: string };
    segmentTimeline?: { t?: number; d: number; r?: number }[];
    list?: { segmentUrls?: unknown[] };
    base?: unknown;
  }
  export interface MpdRepresentationInfo {
    segmentInfo: MpdSegmentInfo;
    attributes: { sourceDuration?: number; periodDuration?: number; [name: string]: unknown };
  }
  export interface MpdSidx {
    timescale: number;
    firstOffset: number;
    references: { referenceType: number; referencedSize: number; subsegmentDuration: number }[];
  }
  export function stringToMpdXml(text: string): Element;
  export function inheritAttributes(
    mpd: Element,
    options?: { manifestUri?: string },
  ): { representationInfo: MpdRepresentationInfo[] };
  export function toPlaylists(representations: MpdRepresentationInfo[]): unknown[];
  export function toM3u8(options: { dashPlaylists: unknown[] }): MpdManifest;
  export function addSidxSegmentsToPlaylist(
    playlist: MpdPlaylist,
    sidx: MpdSidx,
    baseUrl: string,
  ): MpdPlaylist;
}
