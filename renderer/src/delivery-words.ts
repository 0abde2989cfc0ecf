// Where automated delivery put a file, in words a family reads at a glance: the last few
// parts of the path, "Videos › Keepsake › Christmas 1989.mp4", the full path kept for a
// tooltip, the browser's copy button and the app's "Show in folder".

/** How many parts of the path to name: the file and the two folders above it. */
const PARTS = 3;

export function shortPath(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.slice(-PARTS).join(' › ');
}
