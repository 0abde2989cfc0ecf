import {
  definePreset,
  inputArgs,
  keepMetadataParam,
  sourceMetadataArgs,
  outPath,
  requireEncoder,
} from './preset';
import {
  chooseH264Encoder,
  encoderParam,
  hardwareEncoderArgs,
  hardwareNote,
  profileArgs,
} from './hw-video';

/** The rendition ladder: height and video bitrate. Rungs above the source are dropped. */
export const LADDER = [
  { height: 1080, bitrate: 5000 },
  { height: 720, bitrate: 2800 },
  { height: 480, bitrate: 1400 },
  { height: 360, bitrate: 800 },
] as const;

/** Rungs at or below the source height; a source below the lowest rung keeps its own. */
export function rungsFor(sourceHeight: number): { height: number; bitrate: number }[] {
  const rungs = LADDER.filter((r) => r.height <= sourceHeight);
  if (rungs.length > 0) return rungs.map((r) => ({ ...r }));
  return [{ height: Math.max(2, sourceHeight - (sourceHeight % 2)), bitrate: 600 }];
}

export const hlsPlayback = definePreset({
  name: 'hls-playback',
  description:
    'HLS for playback: H.264 + AAC renditions with keyframe-aligned fixed-length segments and a master playlist.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    segmentSeconds: {
      type: 'integer',
      min: 2,
      max: 10,
      default: 4,
      description: 'Segment length in seconds',
    },
    maxRenditions: {
      type: 'integer',
      min: 1,
      max: 4,
      default: 3,
      description: 'Most renditions in the ladder',
    },
    keepMetadata: keepMetadataParam,
    encoder: encoderParam,
  },
  build(ctx, p) {
    const rungs = rungsFor(ctx.media.height).slice(0, p.maxRenditions);
    const audio = ctx.media.hasAudio;
    const chip = chooseH264Encoder(ctx, p.encoder, 'hls-playback');
    const hw = chip && hardwareEncoderArgs(chip);
    const perRung = rungs.flatMap((r, i) => [
      `-filter:v:${i}`,
      hw ? `scale=-2:${r.height},${hw.upload}` : `scale=-2:${r.height}`,
      `-b:v:${i}`,
      `${r.bitrate}k`,
      `-maxrate:v:${i}`,
      `${Math.round(r.bitrate * 1.07)}k`,
      `-bufsize:v:${i}`,
      `${r.bitrate * 2}k`,
    ]);
    const streamMap = rungs.map((_, i) => (audio ? `v:${i},a:${i}` : `v:${i}`)).join(' ');
    const outputs = ['master.m3u8', ...rungs.map((_, i) => `v${i}/index.m3u8`)];
    const video =
      chip && hw
        ? [
            ...hw.codec,
            ...profileArgs(chip),
            // NVENC makes a forced keyframe an IDR only when told to; HLS segments need one.
            ...(chip.api === 'nvenc' ? ['-forced-idr', '1'] : []),
          ]
        : [
            '-c:v',
            requireEncoder(ctx, 'hls-playback', 'libx264'),
            '-preset',
            'veryfast',
            '-profile:v',
            'high',
            '-pix_fmt',
            'yuv420p',
          ];
    return {
      notes: [
        `renditions: ${rungs.map((r) => `${r.height}p`).join(', ')}`,
        ...(chip ? [hardwareNote(chip)] : []),
      ],
      steps: [
        {
          outputs,
          ...(chip ? { hardware: chip.name } : {}),
          args: [
            ...inputArgs(ctx),
            ...(hw?.device ?? []),
            ...rungs.flatMap(() => ['-map', '0:v:0', ...(audio ? ['-map', '0:a:0'] : [])]),
            ...sourceMetadataArgs(p.keepMetadata),
            ...video,
            ...perRung,
            // Keyframes exactly on segment boundaries, none from scene cuts in between.
            '-force_key_frames',
            `expr:gte(t,n_forced*${p.segmentSeconds})`,
            '-sc_threshold',
            '0',
            ...(audio ? ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'] : []),
            '-f',
            'hls',
            '-hls_time',
            String(p.segmentSeconds),
            '-hls_playlist_type',
            'vod',
            '-hls_flags',
            'independent_segments',
            '-hls_segment_type',
            'mpegts',
            '-hls_segment_filename',
            outPath(ctx, 'v%v/segment_%05d.ts'),
            '-master_pl_name',
            'master.m3u8',
            '-var_stream_map',
            streamMap,
            outPath(ctx, 'v%v/index.m3u8'),
          ],
        },
      ],
    };
  },
});
