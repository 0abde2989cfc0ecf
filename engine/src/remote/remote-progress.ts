// How one progress bar covers the three steps of a job on a paired server, and back: the
// upload is its first tenth, the server's work the next 85 %, the download of the
// results the rest. The job queue stores one percentage per job, so the Jobs screen
// learns which step a remote job is in (and how far that step is) by reading it back
// here, rather than from a second column kept in step with the first.

export type RemotePhase = 'uploading' | 'working' | 'downloading';

const UPLOAD_END = 10;
const WORK_END = 95;

/** Bar percentage while `sent` of `total` bytes have been uploaded. */
export function uploadPercent(sent: number, total: number): number {
  return total > 0 ? (UPLOAD_END * Math.min(sent, total)) / total : 0;
}

/** Bar percentage while the server reports `serverPercent` (0..100) of its own work. */
export function workPercent(serverPercent: number): number {
  return UPLOAD_END + ((WORK_END - UPLOAD_END) / 100) * Math.min(100, Math.max(0, serverPercent));
}

/** Bar percentage once `done` of `count` results have been downloaded. */
export function downloadPercent(done: number, count: number): number {
  return WORK_END + (count > 0 ? ((100 - WORK_END) * done) / count : 0);
}

/** The step a remote job's bar percentage falls in, and how far that step is (0..100). */
export function remotePhase(percent: number): { phase: RemotePhase; percent: number } {
  const clamp = (p: number) => Math.min(100, Math.max(0, p));
  if (percent < UPLOAD_END) {
    return { phase: 'uploading', percent: clamp((percent / UPLOAD_END) * 100) };
  }
  if (percent < WORK_END) {
    return {
      phase: 'working',
      percent: clamp(((percent - UPLOAD_END) / (WORK_END - UPLOAD_END)) * 100),
    };
  }
  return { phase: 'downloading', percent: clamp(((percent - WORK_END) / (100 - WORK_END)) * 100) };
}
