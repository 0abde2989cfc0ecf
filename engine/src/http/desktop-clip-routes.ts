// The desktop API for a tape's clips (net/desktop-route-table.ts): the cut list the family
// corrects in the viewer, saved as a new version each time (tape/cut-list-store.ts), and
// its CSV form for people who keep tape notes in a spreadsheet. The tape's length and
// frame rate come from what was read of the vault copy, never from the editor, so a list
// can never be checked against a tape that is not this one.
//
// "Make these clips" turns the newest saved list into library items of their own
// (tape/clip-export.ts, through the session, which records each clip as its job ends).

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { basename, extname } from 'node:path';
import { KeepsakeError } from '../core/errors';
import type { CutListView } from '../net/desktop-clip-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import type { DesktopSession } from '../session/session';
import { checkCutList, snap, type CutList } from '../tape/cut-list';
import { CSV_MAX_BYTES, cutListFromCsv, cutListToCsv } from '../tape/cut-list-csv';
import type { Vault } from '../vault/keyring';

export interface ClipRoutesOptions {
  session: DesktopSession;
}

/** The tape's own facts: an encrypted video whose length was read. */
interface Tape {
  duration: number;
  fps?: number;
  /** What the download is called: the family's title, else the file's name. */
  name: string;
}

/** The editor's duration may differ from the engine's by rounding, never by more. */
const DURATION_SLACK_SECONDS = 0.5;

export function clipRoutes({ session }: ClipRoutesOptions): FastifyPluginAsync {
  const tapeOf = (vault: Vault, fileId: string): Tape => {
    const [facts] = session.items.facts(vault, { fileId });
    if (!facts) throw new KeepsakeError('NOT_FOUND', 'that item is not in the library');
    if (facts.file.kind !== 'video') {
      throw new KeepsakeError('USAGE', 'only videos are cut into clips; this item is not one');
    }
    if (facts.file.encryptedPath === undefined) {
      throw new KeepsakeError(
        'NOT_ENCRYPTED',
        'this video is not in the vault yet; protect it first, then cut it into clips',
      );
    }
    const duration = facts.info?.durationSeconds;
    if (duration === undefined) {
      throw new KeepsakeError(
        'CUT_LIST_INVALID',
        'the length of this video is not known yet; try again once Keepsake has read it',
      );
    }
    const fps = facts.info?.frameRate;
    const name = facts.labels?.title ?? basename(facts.file.rel, extname(facts.file.rel));
    return { duration, ...(fps ? { fps } : {}), name };
  };

  /** The list as the editor sees it: `version` (or the newest), with every version. */
  const view = (vault: Vault, fileId: string, tape: Tape, version?: number): CutListView => {
    const saved = session.cutLists.get(vault, fileId, version);
    if (version !== undefined && !saved) {
      throw new KeepsakeError('NOT_FOUND', `this tape has no saved version ${version} of clips`);
    }
    const versions = session.cutLists.versions(fileId);
    return {
      version: saved?.version ?? 0,
      ...(saved ? { savedAt: saved.savedAt } : {}),
      latest: versions[0]?.version ?? 0,
      // The tape's facts as read now: an older list is shown against the same tape.
      duration: tape.duration,
      ...(tape.fps ? { fps: tape.fps } : {}),
      clips: saved?.list.clips ?? [],
      versions,
    };
  };

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Scoped to these routes: the rest of the API takes JSON only (embedded.ts).
    app.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: CSV_MAX_BYTES },
      (_request, body, done) => done(null, body),
    );

    app.route({
      ...DESKTOP_ROUTES.cutList,
      handler: async (request) => {
        const vault = session.requireVault();
        const id = request.params.id;
        return view(vault, id, tapeOf(vault, id), request.query.version);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.saveCutList,
      handler: async (request) => {
        const vault = session.requireVault();
        const id = request.params.id;
        const tape = tapeOf(vault, id);
        const { basedOn, duration, clips } = request.body;
        if (duration !== undefined && Math.abs(duration - tape.duration) > DURATION_SLACK_SECONDS) {
          throw new KeepsakeError(
            'CUT_LIST_INVALID',
            'these clips were made for a tape of another length; open the tape again',
          );
        }
        const list = checkCutList({
          duration: tape.duration,
          ...(tape.fps ? { fps: tape.fps } : {}),
          clips: clips.map((c) => ({
            ...c,
            start: onFrame(c.start, tape),
            end: onFrame(c.end, tape),
          })),
        });
        const { version } = session.cutLists.save(vault, id, list, basedOn);
        // The log is not sealed: it says what happened, never a title or a date.
        session.record('tape.clips', id, 'ok', `version ${version}: ${clipCount(list)}`);
        return view(vault, id, tape, version);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.cutListCsv,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        const id = request.params.id;
        const tape = tapeOf(vault, id);
        const saved = session.cutLists.get(vault, id, request.query.version);
        if (request.query.version !== undefined && !saved) {
          throw new KeepsakeError(
            'NOT_FOUND',
            `this tape has no saved version ${request.query.version} of clips`,
          );
        }
        // Nothing saved yet: the whole tape, one clip, so the file shows the columns in use.
        const list = saved?.list ?? {
          duration: tape.duration,
          clips: [{ start: 0, end: tape.duration }],
        };
        session.record('tape.clips.export', id, 'ok', clipCount(list));
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', attachment(`${tape.name} clips.csv`))
          .header('cache-control', 'no-store')
          .send(cutListToCsv(list));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.makeClips,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        tapeOf(vault, request.params.id);
        return reply.code(202).send(await session.exportClips(request.params.id));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.importCutListCsv,
      handler: async (request) => {
        const vault = session.requireVault();
        const id = request.params.id;
        const tape = tapeOf(vault, id);
        const type = request.headers['content-type'] ?? '';
        if (typeof request.body !== 'string' || !/^text\/csv\b/i.test(type)) {
          throw new KeepsakeError('UNSUPPORTED_MEDIA_TYPE', 'a cut list is sent as text/csv');
        }
        const list = cutListFromCsv(request.body, tape);
        const { version } = session.cutLists.save(vault, id, list, request.query.basedOn);
        session.record(
          'tape.clips',
          id,
          'ok',
          `version ${version} from a CSV file: ${clipCount(list)}`,
        );
        return view(vault, id, tape, version);
      },
    });
  };
}

/**
 * `t` on the tape's nearest frame. A time inside the tape stays inside it: the last
 * frame's end may not fall on the frame grid (a 5.98 s tape), and is not pushed past it.
 */
function onFrame(t: number, tape: Tape): number {
  const at = snap(t, tape.fps);
  return t <= tape.duration + 1e-6 ? Math.min(at, tape.duration) : at;
}

function clipCount(list: CutList): string {
  return list.clips.length === 1 ? '1 clip' : `${list.clips.length} clips`;
}

/**
 * A Content-Disposition naming the download: an ASCII fallback and the real name in
 * RFC 5987 form (titles hold accents), without characters no file name may hold.
 */
function attachment(name: string): string {
  const clean = name.replace(/[\\/:*?"<>|\p{Cc}]+/gu, ' ').trim() || 'clips.csv';
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/[%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}
