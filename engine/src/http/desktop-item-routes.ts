// The desktop API's library items (net/desktop-route-table.ts): every item of every
// folder at once, newest first, as the library's picture grid shows them, and the title
// and date the family gives one. Pictures and the vault copy are handed out as capability
// URLs (item-media.ts), so the grid's <img> and the viewer's <video> need no token.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { basename } from 'node:path';
import { KeepsakeError } from '../core/errors';
import type { FileJob } from '../jobs/queue';
import { splitStored } from '../library/attention-words';
import { playability } from '../library/item-playable';
import { capturedOf, newestFirst, type ItemFacts } from '../library/library-items';
import { folderName } from '../library/library';
import type { LibraryItem } from '../net/desktop-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import type { DesktopSession } from '../session/session';
import { mediaPath, picturesPath } from './item-media';

export interface ItemRoutesOptions {
  session: DesktopSession;
  /** The per-launch secret behind the capability URLs (play.ts, item-media.ts). */
  playSecret: Buffer;
}

/** One item as the API shows it; `jobs` are its jobs, newest first. */
export function libraryItem(facts: ItemFacts, jobs: FileJob[], secret: Buffer): LibraryItem {
  const { file, folder, info, labels, pictures } = facts;
  const encrypted = file.encryptedPath !== undefined;
  const captured = capturedOf(facts);
  const base = picturesPath(secret, file.id);
  const thumb = pictures.get('thumb') ?? pictures.get('poster');
  const sprite = pictures.get('sprite');
  // What was read from the file says first; else why no picture could be made of it.
  const why = info?.attention
    ? {
        attention: info.attention,
        ...attentionWords(info.attentionDetail, info.attentionTechnical),
      }
    : facts.pictureFailure
      ? {
          attention: facts.pictureFailure.reason,
          ...attentionWords(facts.pictureFailure.detail, facts.pictureFailure.technical),
        }
      : undefined;
  return {
    id: file.id,
    folderId: folder.id,
    folderName: folderName(folder),
    name: basename(file.rel),
    rel: file.rel,
    kind: file.kind,
    size: file.size,
    encrypted,
    sourceExists: file.sourceExists,
    inVaultOnly: encrypted && !file.sourceExists,
    ...playability({ kind: file.kind, rel: file.rel, encrypted, info }),
    ...(labels?.title !== undefined ? { title: labels.title } : {}),
    ...(captured ?? {}),
    ...(info?.durationSeconds !== undefined ? { durationSeconds: info.durationSeconds } : {}),
    ...(info?.width !== undefined ? { width: info.width } : {}),
    ...(info?.height !== undefined ? { height: info.height } : {}),
    ...(why ? { attention: why.attention } : {}),
    ...(why?.attentionDetail !== undefined ? { attentionDetail: why.attentionDetail } : {}),
    ...(why?.attentionTechnical !== undefined
      ? { attentionTechnical: why.attentionTechnical }
      : {}),
    pictures: {
      ...(thumb ? { thumb: base + thumb.name } : {}),
      ...(pictures.has('preview') ? { preview: base + pictures.get('preview')!.name } : {}),
      ...(pictures.has('poster') ? { poster: base + pictures.get('poster')!.name } : {}),
      ...(sprite ? { sprite: base + sprite.name, spriteFrames: sprite.frames } : {}),
    },
    ...(encrypted ? { mediaUrl: mediaPath(secret, file.id) } : {}),
    jobs,
  };
}

/**
 * The family's sentence and the tool's words, kept apart; facts read by an older version
 * hold both in one text (attention-words.ts).
 */
function attentionWords(
  detail: string | undefined,
  technical: string | undefined,
): { attentionDetail?: string; attentionTechnical?: string } {
  if (detail === undefined) return {};
  if (technical !== undefined) return { attentionDetail: detail, attentionTechnical: technical };
  const { sentence, technical: stored } = splitStored(detail);
  return {
    attentionDetail: sentence,
    ...(stored !== undefined ? { attentionTechnical: stored } : {}),
  };
}

export function itemRoutes(options: ItemRoutesOptions): FastifyPluginAsync {
  const { session, playSecret } = options;

  /** The jobs of these files, newest first, by file (one query); none while locked. */
  const jobsByFile = async (fileIds: readonly string[]): Promise<Map<string, FileJob[]>> => {
    if (!session.currentVault()) return new Map();
    try {
      return await session.requireEngine().queue.jobsForFiles(fileIds);
    } catch {
      return new Map(); // the job engine still opening, or FFmpeg missing: no jobs to list
    }
  };

  const items = async (scope: Parameters<DesktopSession['items']['facts']>[1]) => {
    const facts = session.items.facts(session.currentVault(), scope);
    const jobs = await jobsByFile(facts.map((f) => f.file.id));
    return newestFirst(facts).map((f) => libraryItem(f, jobs.get(f.file.id) ?? [], playSecret));
  };

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.route({
      ...DESKTOP_ROUTES.libraryItems,
      handler: async () => ({ items: await items({ all: true }) }),
    });

    app.route({
      ...DESKTOP_ROUTES.setLabels,
      handler: async (request) => {
        const { title, date } = request.body;
        if (title === undefined && date === undefined) {
          throw new KeepsakeError('USAGE', 'say what to change: a title, a date, or both');
        }
        const vault = session.requireVault();
        const id = request.params.id;
        session.items.setLabels(vault, id, request.body);
        // The log is not sealed: it says what changed, never the title or the date.
        const said = [
          title === undefined ? undefined : title === null ? 'title cleared' : 'title set',
          date === undefined ? undefined : date === null ? 'date cleared' : 'date set',
        ].filter((s) => s !== undefined);
        session.record('library.label', id, 'ok', said.join(', ') || 'nothing changed');
        const [item] = await items({ fileId: id });
        return item!;
      },
    });
  };
}
