// IPC channel names, one per member of window.keepsake that needs the main process.
// preload.ts spells them out again (a sandboxed preload cannot require local files);
// preload.test.ts checks the two agree.
export const ENGINE_INFO_CHANNEL = 'keepsake:engine-info';
export const PICK_FOLDER_CHANNEL = 'keepsake:pick-folder';
export const REVEAL_CHANNEL = 'keepsake:reveal';
export const NOTIFY_CHANNEL = 'keepsake:notify';

export const IPC_CHANNELS = [
  ENGINE_INFO_CHANNEL,
  PICK_FOLDER_CHANNEL,
  REVEAL_CHANNEL,
  NOTIFY_CHANNEL,
] as const;

/** Longest strings window.keepsake.notify() accepts; longer ones are refused. */
export const NOTIFY_TITLE_MAX = 100;
export const NOTIFY_BODY_MAX = 300;
/** Longest path window.keepsake.reveal() accepts. */
export const REVEAL_PATH_MAX = 4096;
