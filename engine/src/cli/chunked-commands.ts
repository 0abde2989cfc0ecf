// Raw C2SP chunked encryption on stdin -> stdout, for interoperability tests with other
// implementations. Decryption streams: chunks that authenticate are written as they
// come, so on failure (non-zero exit) the output holds at most a prefix of whole chunks.

import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { KeepsakeError } from '../core/errors';
import { DecryptStream, EncryptStream } from '../vault/chunked-stream';

function hexArg(name: string, value: string | undefined, size?: number): Buffer {
  const text = value ?? '';
  if (!/^([0-9a-fA-F]{2})*$/.test(text) || (size !== undefined && text.length !== size * 2)) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `${name} must be ${size !== undefined ? `${size} bytes (${size * 2} hex digits)` : 'hex'}`,
    );
  }
  return Buffer.from(text, 'hex');
}

export function registerChunkedCommands(program: Command): void {
  const chunked = program
    .command('chunked')
    .description('raw Cobblestone-256 (C2SP chunked encryption) on stdin to stdout');
  for (const mode of ['encrypt', 'decrypt'] as const) {
    chunked
      .command(mode)
      .description(`${mode} stdin to stdout`)
      .requiredOption('--key-hex <hex>', 'the 32-byte input key, hex')
      .option('--context-hex <hex>', 'the context, hex (default empty)', '')
      .action(async (opts: { keyHex: string; contextHex: string }) => {
        const key = hexArg('--key-hex', opts.keyHex, 32);
        const context = hexArg('--context-hex', opts.contextHex);
        const transform =
          mode === 'encrypt' ? new EncryptStream(key, context) : new DecryptStream(key, context);
        await pipeline(process.stdin, transform, process.stdout);
      });
  }
}
