// The hardened shell around the UI. The renderer is a web page served by the local
// engine; it gets no Node, no Electron internals, no other sites, no new windows, and
// no device permissions. Whatever it needs beyond a browser goes through the small
// preload bridge, whose IPC handlers check the sender with isTrustedSender.

import { app, session } from 'electron';
import type { Session, WebContents, WebPreferences } from 'electron';

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

/** True only for a URL on exactly the engine's origin (scheme, host and port). */
export function isSameOrigin(url: string | undefined, origin: string): boolean {
  if (!url) return false;
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** For IPC handlers: was the message sent by a frame showing the engine's UI? */
export function isTrustedSender(frameUrl: string | undefined, engineOrigin: string): boolean {
  return isSameOrigin(frameUrl, engineOrigin);
}

export function hardenWebContents(contents: WebContents, engineOrigin: string): void {
  // Navigation may stay on the engine's origin (reloads, in-app links); anything else
  // (a pasted link, a redirect, a compromised page) is stopped.
  const stayHome = (event: { url: string; preventDefault(): void }) => {
    if (!isSameOrigin(event.url, engineOrigin)) event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-frame-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function hardenSession(ses: Session): void {
  // Camera, microphone, notifications, geolocation, clipboard reads...: none needed.
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

/** Applies the rules to the default session and to every web contents ever created. */
export function installWindowSecurity(engineOrigin: string): void {
  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, engineOrigin));
}
