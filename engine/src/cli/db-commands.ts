// `keepsake db …`: the engine database (engine.db) itself. `repair` is what the
// DATABASE_CORRUPT message points to.

import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { databasePath } from '../jobs/db';
import { repairDatabase } from '../jobs/db-repair';
import { globals, output } from './context';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('the engine database (job history, library index)');

  db.command('repair')
    .description(
      'if engine.db is damaged or empty: move it aside, start a fresh one and keep every row that can still be read (close Keepsake first)',
    )
    .action((_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const path = databasePath(resolveDataDir(g.dataDir));
      const report = repairDatabase(path);
      if (!report.repaired) {
        output(g, `${path} is healthy; nothing to repair.`, { ...report, database: path });
        return;
      }
      const kept = Object.entries(report.kept)
        .filter(([, rows]) => rows > 0)
        .map(([table, rows]) => `${rows} ${table.replace(/_/g, ' ')}`);
      const lines = [
        `Moved the damaged database to ${report.movedTo} and started a fresh one.`,
        kept.length ? `Kept: ${kept.join(', ')}.` : 'Nothing could be read from the damaged file.',
        report.damaged.length
          ? `Could not read all of: ${report.damaged.map((t) => t.replace(/_/g, ' ')).join(', ')}.`
          : 'Every table was read to the end.',
        'Your vault files and job outputs are untouched on disk. If library folders are missing, add them again to rescan them.',
      ];
      output(g, lines.join('\n'), { ...report, database: path });
    });
}
