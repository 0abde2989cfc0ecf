// Work the family has not saved yet (a tape's clips being corrected), and the one question
// asked before anything would throw it away: closing the viewer, moving to the next item,
// or closing the window. Module state, not a store: only one editor is open at a time.

let unsaved: string | undefined;

function onUnload(e: BeforeUnloadEvent) {
  e.preventDefault();
}

/** Says what is unsaved (a sentence), or that nothing is. */
export function setUnsaved(what: string | undefined): void {
  if (what && !unsaved) window.addEventListener('beforeunload', onUnload);
  if (!what && unsaved) window.removeEventListener('beforeunload', onUnload);
  unsaved = what;
}

/** Whether to go on: yes when nothing is unsaved, else as the family answers. */
export function mayLeave(): boolean {
  return !unsaved || window.confirm(`${unsaved} Leave without saving them?`);
}
