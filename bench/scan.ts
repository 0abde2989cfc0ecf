// npm run bench:scan — the library's folder scanner against `find`, in one run.
//
// A tree of BENCH_ENTRIES entries (files in folders of 200, a link to `/`, links back to
// parents) is made once under BENCH_DIR and reused. Then, alternating which goes first
// in each round, on a warm cache:
//
//   reference:  `find TREE -xdev | wc -l`: names only; find never stats a file;
//   scanner:    the engine's scanFolder (compiled, in its own process), which lstats
//               every file because the library needs each file's size and date;
//   for scale:  `find TREE -xdev -printf '%s %T@ %p\n' | wc -l`: find made to read the
//               same size and date of every entry.
//
// It prints entries per second of each, the median ratio scanner/reference (target
// >= 0.80) and the scanner process's peak RSS (target < 400 MB).
//
//   BENCH_ENTRIES  entries in the tree (default 1,000,000)
//   BENCH_ROUNDS   rounds (default 5)
//   BENCH_DIR      working folder (default <tmp>/keepsake-bench-scan: outside the repository,
//                  where a recursive grep of the sources would otherwise read a million files)

import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleRunner } from './bundle-runner';
import { measure } from './measure';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const dir = resolve(process.env.BENCH_DIR ?? join(tmpdir(), 'keepsake-bench-scan'));
const tree = join(dir, `tree-${ENTRIES}`);
const doneMarker = `${tree}.done`;
const LAYOUT = 'v1';
const TARGET_RATIO = 0.8;
const TARGET_RSS_MB = 400;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Exactly ENTRIES entries below `tree`: year-NNN folders of 100 event folders of 200
 * files (sparse, 1-200 KB), each year with a link to its parent and one to itself, and
 * a link to `/` at the top. Synchronous calls: the quickest way to make a million files.
 */
function makeTree(): void {
  mkdirSync(tree, { recursive: true });
  let n = 0;
  const room = () => n < ENTRIES;
  symlinkSync('/', join(tree, 'whole-computer'));
  n++;
  for (let year = 0; room(); year++) {
    const yearDir = join(tree, `year-${String(year).padStart(3, '0')}`);
    mkdirSync(yearDir);
    n++;
    for (const [name, target] of [
      ['back-up', '..'],
      ['myself', '.'],
    ]) {
      if (!room()) break;
      symlinkSync(target!, join(yearDir, name!));
      n++;
    }
    for (let event = 0; event < 100 && room(); event++) {
      const eventDir = join(yearDir, `event-${String(event).padStart(3, '0')}`);
      mkdirSync(eventDir);
      n++;
      for (let i = 0; i < 200 && room(); i++) {
        const fd = openSync(join(eventDir, `IMG_${String(i).padStart(4, '0')}.JPG`), 'w');
        ftruncateSync(fd, 1000 * (1 + ((n * 7919) % 200)));
        closeSync(fd);
        n++;
      }
    }
  }
}

interface Run {
  seconds: number;
  entries: number;
  rssMb: number;
  scanMs?: number;
}

const sh = (script: string) => measure('sh', ['-c', script]);
const quoted = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

async function findNames(): Promise<Run> {
  const r = await sh(`find ${quoted(tree)} -xdev | wc -l`);
  return { seconds: r.seconds, entries: Number(r.out.trim()), rssMb: 0 };
}

async function findStats(): Promise<Run> {
  const r = await sh(`find ${quoted(tree)} -xdev -printf '%s %T@ %p\\n' | wc -l`);
  return { seconds: r.seconds, entries: Number(r.out.trim()), rssMb: 0 };
}

async function scanner(runner: string): Promise<Run> {
  const r = await measure(process.execPath, [runner, tree]);
  const result = JSON.parse(r.out) as {
    files: number;
    dirs: number;
    skipped: number;
    hidden: number;
    handedOut: number;
    elapsedMs: number;
    hwmKb: number;
  };
  if (result.handedOut !== result.files) throw new Error('the scanner lost files on the way');
  return {
    seconds: r.seconds,
    // Every entry it looked at, and the top folder itself, as find counts it.
    entries: result.files + result.dirs + result.skipped + result.hidden + 1,
    rssMb: Math.max(r.rssMb, result.hwmKb / 1024),
    scanMs: result.elapsedMs,
  };
}

/** The scanner as the engine ships it: bundled by esbuild with the engine's own settings. */
async function buildRunner(): Promise<string> {
  const outfile = join(dir, 'scan-runner.mjs');
  return bundleRunner(
    `
        import { readFileSync } from 'node:fs';
        import { scanFolder } from './engine/src/library/scan';
        let handedOut = 0;
        const summary = await scanFolder(process.argv[2], {
          onBatch: (files) => { handedOut += files.length; },
          onProgress: () => {},
        });
        const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
        console.log(JSON.stringify({ ...summary, examples: undefined, handedOut, hwmKb: Number(hwm?.[1] ?? 0) }));
    `,
    'scan-runner.ts',
    outfile,
  );
}

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const marker = await readFile(doneMarker, 'utf8').catch(() => '');
  if (marker !== LAYOUT) {
    await rm(tree, { recursive: true, force: true });
    console.log(`Making a tree of ${ENTRIES.toLocaleString('en')} entries in ${tree} (once)…`);
    const started = Date.now();
    makeTree();
    await writeFile(doneMarker, LAYOUT);
    console.log(`  made in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    console.log(`Reusing the tree of ${ENTRIES.toLocaleString('en')} entries in ${tree}`);
  }
  const runner = await buildRunner();

  // Warm the cache for everyone, untimed.
  await findStats();
  await scanner(runner);

  const ratios: number[] = [];
  const names: number[] = [];
  const stats: number[] = [];
  const ours: number[] = [];
  const ourScans: number[] = [];
  let rss = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    let ref: Run;
    let scan: Run;
    if (round % 2) {
      ref = await findNames();
      scan = await scanner(runner);
    } else {
      scan = await scanner(runner);
      ref = await findNames();
    }
    const stat = await findStats();
    if (ref.entries !== ENTRIES + 1 || scan.entries !== ref.entries) {
      throw new Error(`entry counts differ: find ${ref.entries}, scanner ${scan.entries}`);
    }
    const rate = (r: Run) => r.entries / r.seconds;
    names.push(rate(ref));
    stats.push(rate(stat));
    ours.push(rate(scan));
    ourScans.push(scan.entries / (scan.scanMs! / 1000));
    ratios.push(rate(scan) / rate(ref));
    rss = Math.max(rss, scan.rssMb);
    console.log(
      `round ${round}: find ${ref.seconds.toFixed(2)} s, scanner ${scan.seconds.toFixed(2)} s ` +
        `(scan itself ${(scan.scanMs! / 1000).toFixed(2)} s), find -printf size+time ` +
        `${stat.seconds.toFixed(2)} s; ratio ${(rate(scan) / rate(ref)).toFixed(3)}, ` +
        `scanner peak RSS ${scan.rssMb.toFixed(0)} MB`,
    );
  }
  const ratio = median(ratios);
  const per = (x: number) => `${Math.round(x).toLocaleString('en')} entries/s`;
  console.log(`\n${(ENTRIES + 1).toLocaleString('en')} entries, median of ${ROUNDS} rounds:`);
  console.log(`  find -xdev | wc -l (names only)        ${per(median(names))}`);
  console.log(`  engine scanner (whole process)         ${per(median(ours))}`);
  console.log(`  engine scanner (the scan alone)        ${per(median(ourScans))}`);
  console.log(`  find -printf size and time (for scale) ${per(median(stats))}`);
  console.log(`ratio scanner/find: ${ratio.toFixed(3)} (target >= ${TARGET_RATIO})`);
  console.log(
    `ratio scanner/find -printf: ${(median(ours) / median(stats)).toFixed(3)} (same data read)`,
  );
  console.log(`scanner peak RSS: ${rss.toFixed(0)} MB (target < ${TARGET_RSS_MB} MB)`);
  if (ratio < TARGET_RATIO || rss >= TARGET_RSS_MB) process.exitCode = 1;
}

await main();
