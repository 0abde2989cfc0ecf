// The sink's rewrite of a photo output (SinkOptions.finish): the item's title and date,
// or the photo's own capture date, added as EXIF and XMP to the WebP or JPEG FFmpeg wrote
// without them, or written into the AVIF the engine encodes from FFmpeg's PNG; and which
// of them the output then carries (JobOutput.labels).

import type { BodyRewrite } from '../ffmpeg/output-sink';
import { jpegRewriter } from '../ffmpeg/jpeg-metadata';
import { webpRewriter } from '../ffmpeg/webp-metadata';
import type { LabelKind, OutputLabels } from '../presets/output-labels';
import { exifFor, xmpFor } from '../presets/photo-labels';
import { avifRewrite, type AvifEncoding } from './photo-avif';

/** What a photo's EXIF and XMP carry of `labels`, of those written. */
function photoLabelKinds(
  labels: OutputLabels,
  written: { exif: boolean; xmp: boolean } = { exif: true, xmp: true },
): LabelKind[] {
  const kinds: LabelKind[] = [];
  // Both hold the title; a date without a day goes into XMP only (photo-labels.ts).
  if (labels.title && (written.exif || written.xmp)) kinds.push('title');
  const date = labels.date
    ? (written.exif && exifFor({ date: labels.date })) ||
      (written.xmp && xmpFor({ date: labels.date }))
    : undefined;
  if (date) kinds.push('date');
  return kinds;
}

/**
 * The rewrite of output `name`, given what it should say (`labels`, undefined when it
 * should say nothing) and, for a PNG to be made an AVIF, how (Step.avif); `record` learns
 * which labels it carries once its size is known. Undefined for an output kept as FFmpeg
 * wrote it.
 */
export function photoRewrite(
  name: string,
  labels: OutputLabels | undefined,
  record: (kinds: LabelKind[]) => void,
  avif?: AvifEncoding,
): BodyRewrite | undefined {
  const metadata = labels ? { exif: exifFor(labels), xmp: xmpFor(labels) } : {};
  if (avif) {
    const rewriter = avifRewrite(metadata, avif);
    return {
      see: (part) => rewriter.see(part),
      size: async () => {
        const size = await rewriter.size();
        record(labels ? photoLabelKinds(labels) : []);
        return size;
      },
      rewrite: (body) => rewriter.rewrite(body),
    };
  }
  // Every WebP is rewritten: FFmpeg cannot state a large one's size (webp-metadata.ts).
  if (name.endsWith('.webp')) {
    const rewriter = webpRewriter(metadata);
    return {
      see: (part) => rewriter.see(part),
      size: () => {
        const size = rewriter.size();
        record(labels ? photoLabelKinds(labels) : []);
        return size;
      },
      rewrite: (body) => rewriter.rewrite(body),
    };
  }
  // A JPEG only when there is something to add: FFmpeg's own is whole as it is.
  if (name.endsWith('.jpg') && (metadata.exif || metadata.xmp)) {
    const rewriter = jpegRewriter(metadata);
    return {
      see: (part) => rewriter.see(part),
      size: () => {
        const size = rewriter.size();
        record(labels ? photoLabelKinds(labels, rewriter.written) : []);
        return size;
      },
      rewrite: (body) => rewriter.rewrite(body),
    };
  }
  return undefined;
}
