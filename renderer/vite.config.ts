// Builds the UI into renderer/dist, which the engine serves at `/` (and Electron loads
// from the engine). No Node imports here: lint treats renderer/ as browser code.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // hls.js alone is ~580 kB; it is a lazy chunk loaded only by the Player screen. The
    // password meter's English dictionaries (zxcvbn-ts) are ~1.2 MB, a lazy chunk loaded
    // only by the forms that set a password.
    chunkSizeWarningLimit: 1300,
  },
});
