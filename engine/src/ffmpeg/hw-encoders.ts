// The graphics chips' H.264 and HEVC encoders Keepsake knows, which platforms offer them,
// and the FFmpeg arguments each needs: the device it opens and the frames it takes. The
// one-frame test encode at start (hw-detect.ts) and the presets (presets/hw-video.ts)
// build from the same pieces, so a test that passes has tried what a job will run.

export const HARDWARE_APIS = ['nvenc', 'qsv', 'vaapi', 'videotoolbox', 'amf', 'mf'] as const;
export type HardwareApi = (typeof HARDWARE_APIS)[number];
export type VideoCodec = 'h264' | 'hevc';

/** A hardware encoder that jobs may use: it passed its test encode on this machine. */
export interface HardwareEncoder {
  /** FFmpeg's encoder name, e.g. `h264_vaapi`. */
  name: string;
  codec: VideoCodec;
  api: HardwareApi;
  /** The device node it opens (VAAPI's render node); absent where FFmpeg finds it. */
  device?: string;
}

/** Where VAAPI looks when no render node is named or found. */
export const DEFAULT_VAAPI_DEVICE = '/dev/dri/renderD128';

/**
 * The APIs tried per platform, best first: a vendor's own encoder before the generic
 * layer over it (QSV before VAAPI on an Intel chip, AMF before Media Foundation), since
 * `auto` takes the first that passed.
 */
export const PLATFORM_APIS: Readonly<Partial<Record<NodeJS.Platform, readonly HardwareApi[]>>> = {
  linux: ['nvenc', 'qsv', 'vaapi'],
  darwin: ['videotoolbox'],
  win32: ['nvenc', 'qsv', 'amf', 'mf'],
};

/** The encoder FFmpeg names for a codec on an API (`hevc_nvenc`). */
export function encoderName(codec: VideoCodec, api: HardwareApi): string {
  return `${codec}_${api}`;
}

/**
 * A device path as it may appear in an argv: absolute, and nothing FFmpeg's device
 * string would read as a separator or option (`,` `:` `=`) or a shell could mangle.
 */
export function isDevicePath(path: string): boolean {
  return /^\/[A-Za-z0-9_./-]{1,200}$/.test(path) && !path.includes('..');
}

/**
 * Global options that open the encoder's device (they may stand anywhere in FFmpeg's
 * argv; the presets put them after the inputs). NVENC, VideoToolbox, AMF and Media
 * Foundation open their own device from ordinary frames.
 */
export function deviceArgs(encoder: HardwareEncoder): string[] {
  switch (encoder.api) {
    case 'vaapi':
      // Also makes it the filters' device, for hwupload.
      return ['-vaapi_device', encoder.device ?? DEFAULT_VAAPI_DEVICE];
    case 'qsv':
      return ['-init_hw_device', 'qsv=hw', '-filter_hw_device', 'hw'];
    default:
      return [];
  }
}

/**
 * The filter that ends a picture's chain: NV12 (what every one of these encoders takes),
 * uploaded into the device's memory where the encoder reads only from there.
 */
export function uploadFilter(encoder: HardwareEncoder): string {
  switch (encoder.api) {
    case 'vaapi':
      return 'format=nv12,hwupload';
    case 'qsv':
      // The encoder keeps frames in flight; the upload's pool must hold them.
      return 'format=nv12,hwupload=extra_hw_frames=64';
    default:
      return 'format=nv12';
  }
}

/**
 * Encoder options every use of it gets: the ones that forbid a silent software path
 * (Media Foundation picks a software encoder unless told otherwise; VideoToolbox only
 * when allowed), so a test encode that passes really used the chip.
 */
export function fixedEncoderArgs(encoder: HardwareEncoder): string[] {
  switch (encoder.api) {
    case 'mf':
      return ['-hw_encoding', '1'];
    case 'videotoolbox':
      return ['-allow_sw', '0'];
    default:
      return [];
  }
}
