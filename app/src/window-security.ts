// The hardened shell around the UI, in one place (Electron's security checklist). The
// renderer is a web page served by the local engine; it gets no Node, no Electron
// internals, no other sites, no new windows, no <webview>, and no device permissions.
// Whatever it needs beyond a browser goes through the small preload bridge, whose IPC
// handlers check the sender with isTrustedSender. Nothing here (or anywhere in app/)
// calls shell.openExternal: the UI has no external links to follow, so window.open and
// navigation away are simply denied.
//
// The engine's origin changes when the supervisor restarts it (new port), so the rules
// ask for the current origin each time instead of capturing one.

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

/** The serving engine's origin, or undefined while it is (re)starting. */
export type EngineOrigin = () => string | undefined;

/**
 * A second Content-Security-Policy the app adds to every response, on top of the strict
 * one the engine sends. Browsers enforce every policy, so this is a floor the engine
 * cannot loosen by accident: no inline or foreign script, no plugins, no <base>, no
 * form posts, no framing. (No default-src here: the engine's own policy sets it.)
 */
export const APP_CONTENT_SECURITY_POLICY = [
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Response headers with the app's policy added as one more CSP header. */
export function withAppCsp(
  headers: Record<string, string[]> | undefined,
): Record<string, string[]> {
  const out: Record<string, string[]> = { ...headers };
  const key =
    Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy') ??
    'Content-Security-Policy';
  out[key] = [...(out[key] ?? []), APP_CONTENT_SECURITY_POLICY];
  return out;
}

export function hardenWebContents(contents: WebContents, engineOrigin: EngineOrigin): void {
  // Navigation may stay on the engine's origin (reloads, in-app links); anything else
  // (a pasted link, a redirect, a compromised page) is stopped.
  const stayHome = (event: { url: string; preventDefault(): void }) => {
    const origin = engineOrigin();
    if (!origin || !isSameOrigin(event.url, origin)) event.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-frame-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function hardenSession(ses: Session): void {
  // Camera, microphone, notifications, geolocation, clipboard reads...: none needed (OS
  // notifications come from the main process, through window.keepsake.notify).
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // WebHID, WebSerial, WebUSB: no device is ever granted.
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: withAppCsp(details.responseHeaders) }),
  );
}

/** Applies the rules to the default session and to every web contents ever created. */
export function installWindowSecurity(engineOrigin: EngineOrigin): void {
  hardenSession(session.defaultSession);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, engineOrigin));
}
