// "Clips on this tape", under the video in the viewer: the family cuts a long recording into
// the events on it. They play or step frame by frame to a moment, then split there or move
// a clip's start or end to it, join or leave out clips, and name and date each one. Edits
// stay here until Save, which keeps every version in the vault; Undo steps back an edit
// before Save, and "Undo the last save" brings the version before back as a new one.
import { useEffect, useId, useRef, useState } from 'react';
import {
  ClipEditError,
  clipAt,
  clock,
  frameSeconds,
  fromSuggestions,
  snap,
  split,
  wholeTape,
  type Clip,
} from './clip-edits';
import { useCutList, useCutListActions } from './clip-queries';
import { ClipRow, ClipTools, type ClipEdit } from './ClipRow';
import { ClipSuggestions } from './ClipSuggestions';
import { MakeClips } from './MakeClips';
import { setUnsaved } from './unsaved-work';
import { EngineError, type CutListView, type LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { showFrame, useVideoTime } from './use-video-time';

/** What the editor holds: the clips as edited, and the saved version they start from. */
interface Draft {
  /** The engine's list this draft started from: a newer one starts a new draft. */
  from: CutListView;
  basedOn: number;
  clips: Clip[];
  /** Earlier states of `clips` since the last save, for Undo. */
  undo: Clip[][];
}

function draftOf(view: CutListView): Draft {
  return {
    from: view,
    basedOn: view.latest,
    clips: view.version === 0 ? wholeTape(view.duration) : view.clips,
    undo: [],
  };
}

/** "3 Dec 2026, 22:29": when the shown version was saved, in the family's own format. */
function savedWhen(at: number | undefined): string {
  return new Date(at ?? 0).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A clip as saved: titles and dates without the spaces typed around them. */
function tidy(clip: Clip): Clip {
  const { title, date, ...times } = clip;
  return {
    ...times,
    ...(title?.trim() ? { title: title.trim() } : {}),
    ...(date?.trim() ? { date: date.trim() } : {}),
  };
}

export function ClipsPanel({ item, video }: { item: LibraryItem; video: HTMLVideoElement | null }) {
  // A tape, or a video already cut, opens with its clips; any other video offers them.
  const [asked, setAsked] = useState(false);
  const saved = useCutList(item.id).data?.version;
  if (!item.tape && !asked && !saved) {
    return (
      <div className="clips-closed">
        <button type="button" onClick={() => setAsked(true)}>
          Cut into clips
        </button>
      </div>
    );
  }
  return <ClipsEditor item={item} video={video} />;
}

function ClipsEditor({ item, video }: { item: LibraryItem; video: HTMLVideoElement | null }) {
  const headingId = useId();
  const list = useCutList(item.id);
  const actions = useCutListActions(item.id);
  const { time } = useVideoTime(video);
  const [edited, setDraft] = useState<Draft>();
  const [selected, setSelected] = useState(0);
  const [message, setMessage] = useState<{ text: string; undo?: boolean }>();
  const fileInput = useRef<HTMLInputElement>(null);
  /** The title or date field last typed in, so its keystrokes make one Undo step. */
  const typing = useRef<string>(undefined);
  const view = list.data;
  // A fresh list from the engine (first load, a save, an import, a reload) starts a draft.
  const draft = view && (edited?.from === view ? edited : draftOf(view));
  const dirty = (draft?.undo.length ?? 0) > 0;
  // Closing the viewer or moving on asks first while there are unsaved changes.
  useEffect(() => {
    setUnsaved(dirty ? "The changes to this tape's clips are not saved yet." : undefined);
    return () => setUnsaved(undefined);
  }, [dirty]);

  if (list.isError) {
    return (
      <section className="clips-panel" aria-labelledby={headingId}>
        <h3 id={headingId}>Clips on this tape</h3>
        <p role="alert">The clips could not be opened: {errorText(list.error)}</p>
      </section>
    );
  }
  if (!view || !draft) {
    return (
      <section className="clips-panel" aria-labelledby={headingId}>
        <h3 id={headingId}>Clips on this tape</h3>
        <p role="status">Opening the clips…</p>
      </section>
    );
  }

  const fps = view.fps;
  const frame = frameSeconds(fps);
  const now = snap(time, fps);
  const busy = actions.save.isPending || actions.restore.isPending || actions.importCsv.isPending;
  const failure = actions.save.error ?? actions.restore.error ?? actions.importCsv.error;
  const changedElsewhere = failure instanceof EngineError && failure.code === 'CUT_LIST_CHANGED';

  /** Applies an edit to the clips; a step the rules refuse is said, and nothing changes. */
  const edit = (
    change: (clips: Clip[]) => Clip[],
    said?: { text: string; undo?: boolean },
    field?: string,
  ) => {
    try {
      const clips = change(draft.clips);
      const more = field !== undefined && field === typing.current && draft.undo.length > 0;
      typing.current = field;
      setDraft({ ...draft, clips, undo: more ? draft.undo : [...draft.undo, draft.clips] });
      setMessage(said);
    } catch (err) {
      if (!(err instanceof ClipEditError)) throw err;
      setMessage({ text: err.message });
    }
  };
  const undo = () => {
    const previous = draft.undo[draft.undo.length - 1];
    if (!previous) return;
    typing.current = undefined;
    setDraft({ ...draft, clips: previous, undo: draft.undo.slice(0, -1) });
    setMessage(undefined);
  };

  /** Shows the frame at `t`: paused, so the picture is the one the boundary will be. */
  const seek = (t: number) => {
    if (video) showFrame(video, Math.min(Math.max(0, t), view.duration), frame);
  };

  const onRow = (index: number, change: ClipEdit) => {
    if (change.kind === 'select') {
      setSelected(index);
      seek(draft.clips[index]!.start);
    } else if (change.kind === 'removed') {
      edit(change.apply, {
        text: 'Clip removed. The tape keeps it; this only leaves it out of the clips.',
        undo: true,
      });
      setSelected(Math.max(0, Math.min(index, draft.clips.length - 2)));
    } else if (change.kind === 'label') {
      edit(change.apply, undefined, change.field);
    } else {
      edit(change.apply);
    }
  };

  /** A new save, undo or import: what the last one said is no longer news. */
  const starting = () => {
    actions.save.reset();
    actions.restore.reset();
    actions.importCsv.reset();
    setMessage(undefined);
  };
  const save = () => {
    starting();
    actions.save.mutate(
      { basedOn: draft.basedOn, duration: view.duration, clips: draft.clips.map(tidy) },
      { onSuccess: () => setMessage({ text: 'Clips saved.' }) },
    );
  };
  const previous = view.versions[1];
  const playing = clipAt(draft.clips, now);

  return (
    <section className="clips-panel" aria-labelledby={headingId} data-testid="clips-panel">
      <div className="clips-head">
        <h3 id={headingId}>Clips on this tape</h3>
        <span className="muted small" data-testid="clips-version">
          {view.version === 0
            ? 'Not saved yet'
            : `Saved ${savedWhen(view.savedAt)} (version ${view.version})`}
          {dirty && view.version > 0 ? ' · changes not saved yet' : ''}
        </span>
        <span className="clips-actions">
          <button type="button" className="primary" disabled={!dirty || busy} onClick={save}>
            {actions.save.isPending ? 'Saving…' : 'Save'}
          </button>
          <button type="button" disabled={!dirty || busy} onClick={undo}>
            Undo
          </button>
          {!dirty && previous && (
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                starting();
                actions.restore.mutate(
                  { version: previous.version, latest: view.latest },
                  { onSuccess: () => setMessage({ text: 'The clips are as they were before.' }) },
                );
              }}
            >
              Undo the last save
            </button>
          )}
          <button
            type="button"
            disabled={dirty || view.version === 0 || actions.exportCsv.isPending}
            title={dirty ? 'Save first: the file holds the saved clips' : undefined}
            onClick={() => actions.exportCsv.mutate()}
          >
            Export CSV
          </button>
          <button type="button" disabled={busy} onClick={() => fileInput.current?.click()}>
            Import CSV
          </button>
          <MakeClips
            fileId={item.id}
            disabled={dirty || view.version === 0 || busy}
            onMessage={(text) => setMessage({ text })}
          />
          <input
            ref={fileInput}
            type="file"
            accept=".csv,text/csv"
            hidden
            data-testid="clips-import"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (!file) return;
              starting();
              actions.importCsv.mutate(
                { basedOn: draft.basedOn, file },
                { onSuccess: () => setMessage({ text: 'Clips read from the file and saved.' }) },
              );
            }}
          />
        </span>
      </div>

      <ClipSuggestions
        fileId={item.id}
        onSeek={seek}
        onUse={(cuts, recordings) =>
          edit(() => fromSuggestions(view.duration, cuts, fps, recordings), {
            text: "These are Keepsake's suggestions: check each start and end, then Save.",
            undo: true,
          })
        }
      />
      {message && (
        <p role="status" className="clips-message" data-testid="clips-message">
          {message.text}
          {message.undo && ' '}
          {message.undo && (
            <button type="button" onClick={undo}>
              Undo
            </button>
          )}
        </p>
      )}
      {failure && (
        <div role="alert" className="clips-error">
          {changedElsewhere ? (
            <p>
              These clips were changed in another window.{' '}
              <button
                type="button"
                onClick={() => {
                  starting();
                  void actions.reload();
                }}
              >
                Open them again
              </button>{' '}
              <span className="muted small">(the changes made here are set aside)</span>
            </p>
          ) : (
            <p>Nothing was saved: {errorText(failure)}</p>
          )}
        </div>
      )}
      {actions.exportCsv.isError && (
        <p role="alert" className="clips-error">
          The file could not be made: {errorText(actions.exportCsv.error)}
        </p>
      )}

      <div className="clips-now">
        <span className="clips-now-time" role="group" aria-label="Where the video is">
          <button
            type="button"
            onClick={() => seek(now - frame)}
            aria-label="One frame back"
            title="One frame back"
          >
            ◀ Frame
          </button>
          <output data-testid="clips-time" aria-live="off">
            {clock(now)}
          </output>
          <button
            type="button"
            onClick={() => seek(now + frame)}
            aria-label="One frame on"
            title="One frame on"
          >
            Frame ▶
          </button>
        </span>
        <button
          type="button"
          disabled={playing < 0}
          onClick={() => {
            edit((clips) => split(clips, playing, now, fps));
            setSelected(playing + 1);
          }}
        >
          Split here
        </button>
        {draft.clips[selected] && (
          <ClipTools
            index={selected}
            count={draft.clips.length}
            now={now}
            fps={fps}
            onChange={(change) => onRow(selected, change)}
          />
        )}
      </div>

      <ol className="clip-list">
        {draft.clips.map((clip, i) => (
          <ClipRow
            key={`${clip.start}-${i}`}
            clip={clip}
            index={i}
            selected={i === selected}
            playing={i === playing}
            onChange={(change) => onRow(i, change)}
          />
        ))}
      </ol>
      {draft.clips.length === 0 && (
        <p className="muted">
          No clips: every part of the tape is left out. Undo brings them back.
        </p>
      )}
    </section>
  );
}
