// A graphics chip that passed its test encode at start can still fail on a real job (a
// driver that chokes on a size, a chip another program holds, a device that went away).
// The family wants the copy, not the reason: such a job is made again by the processor,
// once, in the same attempt, and its notes say so in plain words.

import type { Job } from './queue';

/** What the job's notes say when the processor made the copy instead. */
export const SOFTWARE_FALLBACK_NOTE =
  'The graphics chip could not make this copy; it was made by the processor instead.';

/**
 * Thrown by an attempt whose graphics-chip step failed in FFmpeg itself (not cancelled,
 * timed out or starved of input): the one failure a software run could put right.
 */
export class HardwareEncodeFailed extends Error {
  constructor(
    readonly encoder: string,
    override readonly cause: unknown,
  ) {
    super(`the graphics chip's encoder ${encoder} failed`);
  }
}

/**
 * Runs `attempt`; if its chip's encode failed, runs it once more with the processor
 * (`encoder: software`), and notes that it did. Any other failure is the job's own.
 */
export async function withSoftwareFallback<R extends { notes: string[] }>(
  job: Job,
  attempt: (job: Job) => Promise<R>,
): Promise<R> {
  try {
    return await attempt(job);
  } catch (err) {
    if (!(err instanceof HardwareEncodeFailed)) throw err;
    const result = await attempt({ ...job, params: { ...job.params, encoder: 'software' } });
    return { ...result, notes: [SOFTWARE_FALLBACK_NOTE, ...result.notes] };
  }
}
