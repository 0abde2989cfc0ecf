// Why a job failed, said about the family's file by its name ("“Christmas 1989.mpg” is not
// a video Keepsake can read."), with the engine's code kept apart for support. The engine's
// own message is for support too: it speaks of containers and exit codes.
import type { DesktopJob } from './engine-client';
import { asSentence } from './errors-text';

export interface JobFailureText {
  sentence: string;
  code: string;
  /** The engine's words, for the curious and for support. */
  detail: string;
}

type Say = (name: string, job: DesktopJob) => string;

const DAMAGED: Say = (name) =>
  `The protected copy of ${name} is damaged, so nothing could be made from it.`;

const SENTENCES: Partial<Record<string, Say>> = {
  UNSUPPORTED_INPUT: (name, job) => {
    // The engine says which the preset wanted: "preset photo-web takes a still image, …".
    const why = job.lastError?.message ?? '';
    if (/takes a still image/.test(why)) return `${name} is not a photo Keepsake can read.`;
    if (/takes a video|not a video(?! or)/.test(why)) {
      return `${name} is not a video Keepsake can read.`;
    }
    return `${name} is not a video or photo Keepsake can read.`;
  },
  INPUT_TOO_LARGE: (name) =>
    `${name} is too large a picture for Keepsake to open. Make a smaller copy of it first.`,
  FFMPEG_FAILED: (name) => `Keepsake could not make this from ${name}. The file may be damaged.`,
  OUTPUT_CHECK_FAILED: (name) =>
    `What Keepsake made from ${name} did not pass its final check, so it was not kept.`,
  PAYLOAD_CORRUPT: DAMAGED,
  HEADER_CORRUPT: DAMAGED,
  TRUNCATED: DAMAGED,
  DISK_FULL: () => 'The disk is full. Free some space, then try again.',
  JOB_TIMEOUT: (name) => `Making this from ${name} took far too long, so it was stopped.`,
  JOB_INTERRUPTED: () => 'Keepsake was closed while this was being made.',
  FEATURE_UNAVAILABLE: () =>
    'This copy of Keepsake cannot make this kind of file: its FFmpeg lacks a part it needs.',
  FFMPEG_NOT_FOUND: () => 'Keepsake cannot find FFmpeg, the program it makes copies with.',
  SERVER_UNREACHABLE: (_name, job) =>
    `The server${job.remote ? ` “${job.remote}”` : ''} could not be reached.`,
  NOT_FOUND: (name) => `${name} is no longer in the vault.`,
};

/** The job's file, quoted: its name without folders, or "this file" when not known. */
export function quotedName(job: Pick<DesktopJob, 'fileName'>): string {
  const base = job.fileName?.split('/').pop();
  return base ? `“${base}”` : 'this file';
}

/** Why a failed job failed; undefined when it has no error. */
export function describeFailure(job: DesktopJob): JobFailureText | undefined {
  const error = job.lastError;
  if (!error) return undefined;
  const say = SENTENCES[error.code];
  const sentence = say ? say(quotedName(job), job) : asSentence(error.message);
  // "this file is…" at the start of a sentence.
  return {
    sentence: sentence.charAt(0).toUpperCase() + sentence.slice(1),
    code: error.code,
    detail: error.message,
  };
}
