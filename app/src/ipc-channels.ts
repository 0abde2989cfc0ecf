// IPC channel names. preload.ts spells them out again (a sandboxed preload cannot
// require local files); preload.test.ts checks the two agree.
export const ENGINE_INFO_CHANNEL = 'keepsake:engine-info';
