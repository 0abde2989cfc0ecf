// Which of the item's labels each output carries, read back from the sealed output rather
// than assumed from its preset: a preset that drops them (HLS segments, thumbnails), or
// a container that refused them, is then recorded as carrying none, and the viewer says
// so beside that copy.

import { probeOutputUrl } from '../ffmpeg/probe';
import { carriedLabels, type LabelKind, type OutputLabels } from '../presets/output-labels';
import type { OutputReader, VerifyTools } from './verify';

/** Containers whose tags can hold a title and a date (FFmetadata, presets/preset.ts). */
const TAGGED = /\.(mp4|m4v|mov|mkv|webm)$/i;

/** Per output named, the labels it carries: none for one that cannot hold tags. */
export async function readCarriedLabels(
  tools: VerifyTools,
  reader: OutputReader,
  names: readonly string[],
  labels: OutputLabels | undefined,
): Promise<Map<string, LabelKind[]>> {
  const carried = new Map<string, LabelKind[]>();
  for (const name of names) {
    if (!labels || !TAGGED.test(name)) {
      carried.set(name, []);
      continue;
    }
    const probed = await reader.withUrl(name, (url) =>
      probeOutputUrl(tools.ffprobePath, url, { file: name }),
    );
    carried.set(name, carriedLabels(labels, probed.tags));
  }
  return carried;
}
