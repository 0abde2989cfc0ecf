// Make: the goals in plain words ("Preserve this tape") for the items chosen in the
// Library, or for a whole folder; the preset forms stay under "Advanced" (AdvancedMake.tsx).
import { useMemo, useState } from 'react';
import { AdvancedMake } from './AdvancedMake';
import { GoalCards, type MakeTarget } from './GoalCards';
import { useChosenItems } from './goal-queries';
import { useFolderFiles, useFolders } from './queries';
import { useUiStore } from './ui-store';
import './make.css';

// Kept here too: the rules tests import them from the screen they belong to.
export { jobTargets, presetFits } from './AdvancedMake';

export function MakeScreen() {
  const makeItems = useUiStore((s) => s.makeItems);
  const target = useUiStore((s) => s.makeTarget);
  const makeFromItems = useUiStore((s) => s.makeFromItems);
  const go = useUiStore((s) => s.go);
  const folders = useFolders();
  const [wholeFolder, setWholeFolder] = useState('');
  const chosen = makeItems.length > 0;
  // Open at once when the details view's "Make something from…" brought us here.
  const [advanced, setAdvanced] = useState(!chosen && target !== undefined);

  // Items chosen in the Library (a selection), else one file (the details view's
  // "Make something from…"), else a whole folder picked here.
  const library = useChosenItems(chosen);
  const sourceFolder = chosen ? undefined : wholeFolder || target?.folderId;
  const files = useFolderFiles(sourceFolder);
  const targets: MakeTarget[] = useMemo(() => {
    if (chosen) {
      const wanted = new Set(makeItems);
      return (library.data ?? [])
        .filter((i) => wanted.has(i.id))
        .map((i) => ({ id: i.id, name: i.name, kind: i.kind, encrypted: i.encrypted }));
    }
    const list = (files.data ?? []).map((f) => ({
      id: f.id,
      name: f.rel,
      kind: f.kind,
      encrypted: f.encrypted,
    }));
    return wholeFolder ? list : list.filter((f) => f.id === target?.fileId);
  }, [chosen, makeItems, library.data, files.data, wholeFolder, target?.fileId]);

  if (folders.data?.length === 0) {
    return (
      <section className="panel" aria-labelledby="make-heading">
        <h2 id="make-heading">Make</h2>
        <p className="empty">
          Add a folder to the library first; then choose a file here and what to make from it.
        </p>
        <button type="button" onClick={() => go('library')}>
          Go to the library
        </button>
      </section>
    );
  }

  const folderName = folders.data?.find((f) => f.id === wholeFolder)?.name;
  return (
    <section className="panel" aria-labelledby="make-heading">
      <h2 id="make-heading">Make</h2>
      <div className="make-for">
        {chosen ? (
          <p>
            For the {makeItems.length === 1 ? 'item' : `${makeItems.length} items`} you chose in the
            Library.{' '}
            <button type="button" onClick={() => makeFromItems([])}>
              Choose something else
            </button>
          </p>
        ) : (
          <>
            <p>
              {wholeFolder
                ? `For everything in ${folderName ?? 'this folder'}.`
                : target && targets[0]
                  ? `For ${targets[0].name}.`
                  : 'Pick the photos or videos in the Library first, or choose a whole folder here.'}
            </p>
            <div className="field">
              <label htmlFor="make-whole-folder">A whole folder</label>
              <select
                id="make-whole-folder"
                value={wholeFolder}
                onChange={(e) => setWholeFolder(e.target.value)}
              >
                <option value="">{target ? 'No, just this item' : 'Choose a folder…'}</option>
                {folders.data?.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
              </select>
            </div>
          </>
        )}
      </div>
      {targets.length > 0 && <GoalCards targets={targets} />}
      <details
        className="advanced"
        open={advanced}
        onToggle={(e) => setAdvanced(e.currentTarget.open)}
      >
        <summary>Advanced: choose the exact settings yourself</summary>
        <AdvancedMake />
      </details>
    </section>
  );
}
