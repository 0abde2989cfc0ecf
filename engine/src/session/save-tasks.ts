// "Save a copy" runs on after the request that started it: a two-hour tape takes minutes
// to decrypt, so the UI polls its progress. Tasks live in memory (they end with the
// engine, and a copy half-written when it stops is removed by the atomic writer).

import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { newSaveTaskId } from '../core/ids';

export interface SaveTask {
  id: string;
  /** What is being saved, for the UI ("beach.mov"). */
  label: string;
  state: 'running' | 'done' | 'failed';
  bytes: number;
  total: number;
  startedAt: number;
  /** The file or folder written, once done. */
  path?: string;
  error?: { code: string; message: string };
}

/** Finished tasks kept for the UI to read back. */
const KEEP_FINISHED = 50;

export class SaveTasks {
  private readonly tasks = new Map<string, SaveTask>();

  start(
    label: string,
    total: number,
    run: (onBytes: (n: number) => void) => Promise<string>,
  ): SaveTask {
    const task: SaveTask = {
      id: newSaveTaskId(),
      label,
      state: 'running',
      bytes: 0,
      total,
      startedAt: Date.now(),
    };
    this.tasks.set(task.id, task);
    this.trim();
    run((n) => (task.bytes += n)).then(
      (path) => {
        task.state = 'done';
        task.path = path;
        task.bytes = Math.max(task.bytes, task.total);
      },
      (err: unknown) => {
        task.state = 'failed';
        const known = isKeepsakeError(err)
          ? err
          : new KeepsakeError('INTERNAL', err instanceof Error ? err.message : String(err));
        task.error = { code: known.code, message: known.message };
      },
    );
    return { ...task };
  }

  get(id: string): SaveTask {
    const task = this.tasks.get(id);
    if (!task) throw new KeepsakeError('NOT_FOUND', `no save in progress with id "${id}"`);
    return { ...task };
  }

  private trim(): void {
    const finished = [...this.tasks.values()].filter((t) => t.state !== 'running');
    for (const task of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.tasks.delete(task.id);
    }
  }
}
