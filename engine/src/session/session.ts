// The desktop engine's state across requests: whether the vault is open, and the job
// engine that runs with it. The vault's keys exist in this process only between unlock
// and lock; locking stops the worker (running jobs go back to the queue, they are not
// lost) and drops the keys.

import { defaultVaultDir } from '../core/data-dir';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import type { FfmpegLocation } from '../ffmpeg/locate';
import type { ScratchOptions } from '../ffmpeg/scratch';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import { openJobEngine, type JobEngine } from '../jobs/job-engine';
import { runRemote } from '../remote/remote-runner';
import type { WorkerOptions } from '../jobs/worker';
import { deliverNamed, deliveryName } from '../jobs/deliver';
import { deliveryOf, recordDelivery, type Delivery } from '../jobs/deliveries';
import type { Job } from '../jobs/queue';
import { InfoReader } from '../library/info-reader';
import { PreviewMaker } from '../library/preview-maker';
import { Library } from '../library/library';
import { LibraryItems } from '../library/library-items';
import { ItemLabelStore } from '../library/item-labels';
import { recentlyWatched, rememberWatched, type Watched } from '../library/recently-watched';
import { backgroundFailure, readLibraryInBackground } from './library-background';
import { SaveTasks } from './save-tasks';
import { exportClips, recordClip, type ClipExportSummary } from '../tape/clip-export';
import { CutListStore } from '../tape/cut-list-store';
import { TapeAnalysisStore } from '../tape/analysis-store';
import { keepTapeAnalysis } from '../tape/analysis-keeper';
import { isTapeAnalysis } from '../jobs/tape-job';
import { readSettings, writeSettings, type DesktopSettings } from './settings';
import { AuditLog } from '../audit/audit';
import {
  DEFAULT_SCRYPT,
  changePassword,
  confirmRecoveryKey,
  createVault,
  newRecoveryKey,
  recoveryUnconfirmed,
  unlockVault,
  vaultExists,
  type ScryptParams,
  type Unlock,
  type Vault,
} from '../vault/keyring';
import { requireStrongPassword } from '../vault/password-policy';
import { findVaultData, refuseOverVaultData } from '../vault/vault-data';

/** How the app tells a family to restore rather than start over. */
const RESTORE_ADVICE_APP =
  'you need the recovery key and a Keepsake backup (made by batch-encrypt, or a keyring file ' +
  'saved with “keepsake vault export-keyring”): the command “keepsake vault restore BACKUP” ' +
  'puts the key file back. Ask someone who knows computers to help if this is new to you.';

/** What a lock does with jobs running here: wait for them, or stop them (requeued). */
export type LockJobs = 'wait' | 'stop';

export interface SessionOptions {
  dataDir: string;
  /** Tests: a known FFmpeg, a private scratch, cheap key derivation, a fast worker. */
  ffmpeg?: FfmpegLocation;
  scratch?: ScratchOptions;
  scrypt?: ScryptParams;
  worker?: Partial<Omit<WorkerOptions, 'concurrency' | 'cleanup'>>;
  concurrency?: number;
}

export class DesktopSession {
  readonly library: Library;
  /** Reads each protected item's date and facts in the background while the vault is open. */
  readonly info: InfoReader;
  /** Makes each protected item's pictures (thumbnails, posters) after its facts are read. */
  readonly previews: PreviewMaker;
  /** Every item with its facts, labels and pictures, for the library screens. */
  readonly items: LibraryItems;
  /** Each tape's cut lists, every saved version, sealed with the vault. */
  readonly cutLists: CutListStore;
  /** Each tape's newest analysis, kept with the tape (migration 17). */
  readonly tapeAnalyses: TapeAnalysisStore;
  readonly activity: AuditLog;
  /** "Save a copy" decryptions running on after their request. */
  readonly saves = new SaveTasks();
  readonly vaultDir: string;
  private readonly db: Db;
  private vault: Vault | undefined;
  /** How the open vault was unlocked: after the recovery key, the app offers a new password. */
  private unlockedWith: 'password' | 'recovery' = 'password';
  private engine: JobEngine | undefined;
  /** Why the job engine did not open (FFmpeg missing, say); the vault is open anyway. */
  private engineError: unknown;
  private readonly lockListeners: (() => void)[] = [];
  private readonly unlockListeners: ((vault: Vault) => void)[] = [];
  /** A lock waiting for running jobs to finish (lock with `jobs: 'wait'`). */
  private pendingLock: Promise<void> | undefined;
  /** Serialises unlock/lock, so a double click cannot open two workers. */
  private transition: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SessionOptions) {
    this.db = openDatabase(databasePath(options.dataDir));
    this.library = new Library(this.db, options.dataDir);
    this.library.dropUnfinishedScans();
    // The job engine's FFmpeg: the reader runs only while the engine is open.
    this.info = new InfoReader(this.db, options.dataDir, () =>
      Promise.resolve(this.requireEngine().env.ffmpeg),
    );
    this.previews = new PreviewMaker(this.db, options.dataDir, () =>
      Promise.resolve(this.requireEngine().env.ffmpeg),
    );
    this.items = new LibraryItems(this.db, options.dataDir);
    this.cutLists = new CutListStore(this.db);
    this.tapeAnalyses = new TapeAnalysisStore(this.db, options.dataDir);
    this.activity = new AuditLog(this.db);
    this.vaultDir = defaultVaultDir(options.dataDir);
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  async state(): Promise<{ exists: boolean; unlocked: boolean; dir: string }> {
    return {
      exists: await vaultExists(this.vaultDir),
      unlocked: this.vault !== undefined,
      dir: this.vaultDir,
    };
  }

  /**
   * Creates the vault and opens it; the recovery key is returned once, never stored. With
   * `checkRecoveryKey` (the app, which has the user type part of it back) it is marked
   * unconfirmed until confirmRecoveryKey, so that a page closed too early leads to a new
   * key rather than to none.
   * Refused where a vault's files already are (VAULT_DATA_EXISTS): a new vault could
   * never open them, and the way back is a restore with the recovery key.
   */
  create(password: string, { checkRecoveryKey = false } = {}): Promise<string> {
    return this.serial(async () => {
      await refuseOverVaultData(this.options.dataDir, this.vaultDir, RESTORE_ADVICE_APP);
      await requireStrongPassword(password);
      const { vault, recoveryKey } = await createVault(this.vaultDir, password, {
        scrypt: this.options.scrypt,
        recoveryUnconfirmed: checkRecoveryKey,
      });
      await this.open(vault);
      this.unlockedWith = 'password';
      this.record('vault.create');
      return recoveryKey ?? '';
    });
  }

  unlock(unlock: Unlock): Promise<void> {
    return this.serial(async () => {
      if (this.vault) return;
      try {
        await this.open(await unlockVault(this.vaultDir, unlock));
      } catch (err) {
        this.record('vault.unlock', undefined, 'denied', (err as Error).message);
        throw err;
      }
      this.unlockedWith = 'password' in unlock ? 'password' : 'recovery';
      this.record(
        'vault.unlock',
        undefined,
        'ok',
        this.unlockedWith === 'recovery' ? 'with the recovery key' : undefined,
      );
    });
  }

  /** What the key screens need: restore advice, how the vault was opened, key not stored. */
  async keys(): Promise<{
    needsRestore: boolean;
    unlockedWith?: 'password' | 'recovery';
    recoveryUnconfirmed: boolean;
  }> {
    const exists = await vaultExists(this.vaultDir);
    return {
      needsRestore:
        !exists && (await findVaultData(this.options.dataDir, this.vaultDir)).found.length > 0,
      unlockedWith: this.vault ? this.unlockedWith : undefined,
      recoveryUnconfirmed: exists && (await recoveryUnconfirmed(this.vaultDir)),
    };
  }

  /**
   * Sets a new password. The current one is asked for, except right after an unlock with
   * the recovery key (whoever holds it could set one anyway, and it is what a forgotten
   * password leaves).
   */
  setPassword(body: { current?: string; password: string }): Promise<void> {
    return this.serial(async () => {
      const vault = this.requireVault();
      await this.checkCurrent(vault, body.current);
      await requireStrongPassword(body.password);
      await changePassword(vault, body.password, this.options.scrypt ?? DEFAULT_SCRYPT);
      this.unlockedWith = 'password';
      this.record('vault.password');
    });
  }

  /**
   * A new recovery key, returned once: the old one stops working at once. Needs the
   * password (after a password unlock), so that a passer-by at an open vault cannot make
   * the family's stored key useless; not while the current key was never confirmed.
   */
  newRecoveryKey(body: { current?: string }): Promise<string> {
    return this.serial(async () => {
      const vault = this.requireVault();
      if (!(await recoveryUnconfirmed(this.vaultDir))) await this.checkCurrent(vault, body.current);
      const key = await newRecoveryKey(vault, { unconfirmed: true });
      this.record(
        'vault.recovery-key',
        undefined,
        'ok',
        'a new recovery key; the old one no longer works',
      );
      return key;
    });
  }

  /** The user typed part of the recovery key back: it is stored. */
  confirmRecoveryKey(): Promise<void> {
    return this.serial(async () => {
      await confirmRecoveryKey(this.requireVault());
      this.record('vault.recovery-key-confirmed');
    });
  }

  private async checkCurrent(vault: Vault, current: string | undefined): Promise<void> {
    if (this.unlockedWith === 'recovery') return;
    if (!current) throw new KeepsakeError('PASSWORD_REQUIRED', 'enter the current password');
    try {
      const proof = await unlockVault(this.vaultDir, { password: current });
      if (proof.vaultId !== vault.vaultId) throw new KeepsakeError('WRONG_VAULT', 'another vault');
    } catch (err) {
      this.record('vault.password', undefined, 'denied', (err as Error).message);
      throw isKeepsakeError(err, 'WRONG_PASSWORD')
        ? new KeepsakeError('WRONG_PASSWORD', 'the current password is not right')
        : err;
    }
  }

  /**
   * Locks the vault. Jobs running here need a decision first (else JOBS_RUNNING): `stop`
   * puts them back in the queue (they start again at the next unlock, no attempt used),
   * `wait` starts no new job and locks once the running ones have finished; it returns at
   * once, and `lockPending()` says what it waits for meanwhile.
   */
  lock(options: { jobs?: LockJobs; reason?: string } = {}): Promise<void> {
    const running = this.engine?.worker.activeJobs.length ?? 0;
    if (running > 0 && options.jobs === undefined) {
      return Promise.reject(
        new KeepsakeError(
          'JOBS_RUNNING',
          `${running} job${running === 1 ? ' is' : 's are'} running; wait for ${running === 1 ? 'it' : 'them'} to finish or stop ${running === 1 ? 'it' : 'them'} (${running === 1 ? 'it goes' : 'they go'} back to the queue) to lock`,
        ),
      );
    }
    if (running > 0 && options.jobs === 'wait') {
      const engine = this.engine!;
      if (!this.pendingLock) {
        this.pendingLock = engine.worker
          .stop({ drain: true })
          .then(() => (this.engine === engine ? this.lockNow('waited for its jobs') : undefined))
          .catch(() => undefined)
          .finally(() => (this.pendingLock = undefined));
        this.record('vault.lock-pending', undefined, 'ok', `waiting for ${running} job(s)`);
      }
      return Promise.resolve();
    }
    return this.lockNow(options.reason ?? 'the vault was locked');
  }

  /** While a lock waits for running jobs: how many still run. */
  lockPending(): { running: number } | undefined {
    if (!this.pendingLock) return undefined;
    return { running: this.engine?.worker.activeJobs.length ?? 0 };
  }

  private lockNow(reason: string): Promise<void> {
    return this.serial(async () => {
      if (!this.vault) return;
      const engine = this.engine;
      this.engine = undefined;
      this.vault = undefined;
      for (const listener of this.lockListeners) listener();
      // Running jobs go back to the queue at once, with their attempt given back
      // (worker.ts), while the library's readers finish the items they hold (a video's
      // pictures can take seconds).
      await Promise.all([engine?.worker.stop({ reason }), this.info.stop(), this.previews.stop()]);
      await engine?.close();
      this.record(
        'vault.lock',
        undefined,
        'ok',
        reason === 'the vault was locked' ? undefined : reason,
      );
    });
  }

  /** Runs at every unlock (and create), e.g. to protect files added while locked. */
  onUnlock(listener: (vault: Vault) => void): void {
    this.unlockListeners.push(listener);
  }

  settings(): DesktopSettings {
    return readSettings(this.db);
  }

  updateSettings(changes: Partial<DesktopSettings>): DesktopSettings {
    return writeSettings(this.db, changes);
  }

  /** Recently watched, newest first: ids and times only. */
  watched(): Watched[] {
    return recentlyWatched(this.db);
  }

  rememberWatched(fileIds: readonly string[]): Watched[] {
    return rememberWatched(this.db, fileIds);
  }

  /** Where automated delivery put a job's results, once it has started. */
  delivery(jobId: string): Delivery | undefined {
    return deliveryOf(this.db, jobId);
  }

  /** Runs at every lock, e.g. to drop decrypted data held in memory. */
  onLock(listener: () => void): void {
    this.lockListeners.push(listener);
  }

  /** The open vault, or PASSWORD_REQUIRED: the UI takes the user to unlock. */
  requireVault(): Vault {
    if (!this.vault) throw new KeepsakeError('PASSWORD_REQUIRED', 'unlock the vault first');
    return this.vault;
  }

  requireEngine(): JobEngine {
    this.requireVault();
    if (this.engine) return this.engine;
    // Other requests see the vault open while an unlock still opens the job engine.
    throw this.engineError ?? new KeepsakeError('VAULT_OPENING', 'the vault is still opening');
  }

  /** The vault if open, for routes that degrade rather than refuse (playback). */
  currentVault(): Vault | undefined {
    return this.vault;
  }

  record(
    action: string,
    target?: string,
    outcome: 'ok' | 'denied' | 'error' = 'ok',
    detail?: string,
  ): void {
    this.activity.append({ actor: 'desktop', action, target, outcome, detail });
  }

  async close(): Promise<void> {
    await this.lockNow('the engine shut down during the job');
    this.db.close();
  }

  private async open(vault: Vault): Promise<void> {
    this.vault = vault;
    for (const listener of this.unlockListeners) listener(vault);
    try {
      const engine = await openJobEngine({
        dataDir: this.options.dataDir,
        keys: { vault },
        runRemote,
        ffmpeg: this.options.ffmpeg,
        scratch: this.options.scratch,
        concurrency: this.options.concurrency,
        worker: this.options.worker,
      });
      engine.worker.on('finished', (job) => {
        this.finished(job, vault).catch(backgroundFailure);
      });
      // The database busy in another program, the disk full: the worker waits and tries
      // again; the app's log says why jobs do not move meanwhile.
      let lastStall = '';
      engine.worker.on('stalled', (err) => {
        if (err.message === lastStall) return;
        lastStall = err.message;
        process.stderr.write(`keepsake: ${err.message} [${err.code}]; trying again shortly\n`);
      });
      engine.worker.on('progress', () => (lastStall = ''));
      // The Jobs screen shows the reason without vault paths (worker.ts, toJobError); the
      // app's log keeps the whole message, for support.
      engine.worker.on('attemptFailed', (job, err) => {
        const code = isKeepsakeError(err) ? err.code : 'INTERNAL';
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`keepsake: job ${job.id} attempt failed: ${message} [${code}]\n`);
      });
      await engine.worker.start();
      this.engine = engine;
      this.engineError = undefined;
      this.readItemInfo();
    } catch (err) {
      this.engineError = err;
    }
  }

  /**
   * Reads, in the background, what is left to read of the library's protected items (after
   * an unlock, after files are protected), then makes their pictures. Without an open vault
   * and engine, it waits for the next unlock, which calls it again.
   */
  readItemInfo(): void {
    const vault = this.vault;
    if (!vault || !this.engine) return;
    readLibraryInBackground(this.info, this.previews, vault, {
      stillOpen: () => this.vault === vault && this.engine !== undefined,
      record: (action, outcome, detail) => this.record(action, undefined, outcome, detail),
    });
  }

  /** Starts the clip jobs a tape's latest cut list still needs (tape/clip-export.ts). */
  async exportClips(tapeId: string): Promise<ClipExportSummary> {
    const vault = this.requireVault();
    const summary = await exportClips(this.clipDeps(), vault, tapeId);
    // The log says how many, never a title.
    this.record(
      'tape.make-clips',
      tapeId,
      'ok',
      `${summary.started} started, ${summary.kept} kept, ${summary.running} running`,
    );
    return summary;
  }

  private clipDeps() {
    const engine = this.requireEngine();
    return {
      db: this.db,
      library: this.library,
      labels: new ItemLabelStore(this.db),
      cutLists: this.cutLists,
      queue: engine.queue,
      outputRoot: engine.outputRoot,
    };
  }

  /** A finished clip job's output joins the library, then gets its pictures. */
  private async addClip(job: Job, vault: Vault): Promise<void> {
    try {
      const id = await recordClip(this.clipDeps(), vault, job);
      if (id) this.record('library.clip', id, 'ok');
      this.readItemInfo();
    } catch (err) {
      this.record('library.clip', job.id, 'error', (err as Error).message);
    }
  }

  /** A tape's analysis is kept with the tape, then its proposed clips get their pictures. */
  private async keepAnalysis(job: Job, vault: Vault): Promise<void> {
    try {
      const outcome = await keepTapeAnalysis(
        {
          store: this.tapeAnalyses,
          library: this.library,
          tools: () => Promise.resolve(this.requireEngine().env.ffmpeg),
        },
        vault,
        job,
      );
      if (outcome.kept) {
        const said = outcome.failed
          ? `no pictures: ${outcome.failed}`
          : `${outcome.pictures} pictures`;
        this.record('tape.keep-analysis', outcome.fileId, outcome.failed ? 'error' : 'ok', said);
      }
    } catch (err) {
      this.record('tape.keep-analysis', job.id, 'error', (err as Error).message);
    }
  }

  /** Records the outcome, and in automated mode decrypts the results where asked. */
  private async finished(job: Job, vault: Vault): Promise<void> {
    const detail = job.state === 'succeeded' ? undefined : job.lastError?.message;
    this.record(`job.${job.state}`, job.id, job.state === 'failed' ? 'error' : 'ok', detail);
    if (job.state === 'succeeded' && job.preset === 'clip') await this.addClip(job, vault);
    if (job.state === 'succeeded' && isTapeAnalysis(job)) await this.keepAnalysis(job, vault);
    const dir = job.options.deliverTo;
    if (job.state !== 'succeeded' || !dir) return;
    try {
      recordDelivery(this.db, job.id, { state: 'saving' });
      const written = await deliverNamed(job, vault, dir, deliveryName(job));
      recordDelivery(this.db, job.id, { state: 'saved', path: written });
      this.record('job.deliver', job.id, 'ok', written);
    } catch (err) {
      const message = (err as Error).message;
      // The job may have been deleted meanwhile: its delivery row cannot outlive it.
      try {
        recordDelivery(this.db, job.id, { state: 'failed', message });
      } catch {
        // Gone with its job.
      }
      this.record('job.deliver', job.id, 'error', message);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.transition.then(fn, fn);
    this.transition = next.catch(() => undefined);
    return next;
  }
}
