// The preset registry: every preset Keepsake can run, by name.
import { KeepsakeError } from '../core/errors';
import { archiveAv1 } from './archive-av1';
import { archiveHevc } from './archive-hevc';
import { clip } from './clip';
import { exactMaster } from './exact-master';
import { hlsPlayback } from './hls-playback';
import { toJsonSchema, validateParams } from './params';
import { photoWeb } from './photo-web';
import type { BuildContext, BuildResult, Preset } from './preset';
import { remux } from './remux';
import { thumbnails } from './thumbnails';
import { vhsRestore } from './vhs-restore';
import { webH264 } from './web-h264';

export const PRESETS: readonly Preset[] = [
  exactMaster,
  archiveHevc,
  archiveAv1,
  webH264,
  vhsRestore,
  hlsPlayback,
  photoWeb,
  thumbnails,
  remux,
  clip,
] as unknown as readonly Preset[];

export function getPreset(name: string): Preset {
  const preset = PRESETS.find((p) => p.name === name);
  if (!preset) {
    throw new KeepsakeError(
      'UNKNOWN_PRESET',
      `no preset "${name}" (known: ${PRESETS.map((p) => p.name).join(', ')})`,
    );
  }
  return preset;
}

/** Validates raw parameters and builds the argv of every step. */
export function buildJob(
  name: string,
  raw: Record<string, unknown>,
  ctx: BuildContext,
): BuildResult {
  const preset = getPreset(name);
  return preset.build(ctx, validateParams(preset.params, raw));
}

/** What the UI and the API show: name, description, scopes and the parameters' JSON Schema. */
export function describePresets() {
  return PRESETS.map((p) => ({
    name: p.name,
    description: p.description,
    scopes: [...p.scopes],
    accepts: p.accepts,
    parameters: toJsonSchema(p.params),
  }));
}
