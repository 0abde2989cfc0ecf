import type { Command } from 'commander';
import { describePresets } from '../presets';
import { globals, output } from './context';

interface SchemaProperty {
  description: string;
  default: unknown;
  type: string | string[];
  enum?: string[];
  minimum?: number;
  maximum?: number;
}

function describeParam(name: string, p: SchemaProperty): string {
  const range =
    p.enum !== undefined
      ? p.enum.join(' | ')
      : p.minimum !== undefined
        ? `${p.minimum}..${p.maximum}`
        : p.type === 'boolean'
          ? 'true | false'
          : 'W:H:X:Y | none';
  return `    ${name.padEnd(15)} ${range.padEnd(34)} default ${String(p.default ?? 'none').padEnd(9)} ${p.description}`;
}

export function registerPresetCommands(program: Command): void {
  program
    .command('presets')
    .description(
      'list the encoding presets and their parameters (--json: name and JSON Schema of each)',
    )
    .action((_opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const presets = describePresets();
      const text = presets
        .map((p) => {
          const props = (p.parameters.properties ?? {}) as Record<string, SchemaProperty>;
          return [
            `${p.name} (${p.accepts}): ${p.description}`,
            ...Object.entries(props).map(([name, prop]) => describeParam(name, prop)),
          ].join('\n');
        })
        .join('\n\n');
      output(g, text, { presets });
    });
}
