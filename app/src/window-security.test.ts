// Electron is mocked at its edge (app, session, web contents as plain emitters), so the
// real handlers this module installs are exercised with the events Electron would send.
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({
  app: undefined as unknown as EventEmitter,
  session: {
    defaultSession: {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
      webRequest: { onHeadersReceived: vi.fn() },
    },
  },
}));
vi.mock('electron', () => electron);

import {
  APP_CONTENT_SECURITY_POLICY,
  installWindowSecurity,
  isSameOrigin,
  isTrustedSender,
  secureWebPreferences,
  withAppCsp,
} from './window-security';

const ORIGIN = 'http://127.0.0.1:51234';
let currentOrigin: string | undefined = ORIGIN;

class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
}

/** Emits a cancellable Electron-style event and reports whether it was cancelled. */
function fire(contents: EventEmitter, name: string, url: string): boolean {
  const event = { url, preventDefault: vi.fn() };
  contents.emit(name, event, url);
  return event.preventDefault.mock.calls.length > 0;
}

beforeEach(() => {
  electron.app = new EventEmitter();
  currentOrigin = ORIGIN;
  vi.clearAllMocks();
});

function windowContents(): FakeWebContents {
  installWindowSecurity(() => currentOrigin);
  const contents = new FakeWebContents();
  electron.app.emit('web-contents-created', {}, contents);
  return contents;
}

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the page with no Node and no webview', () => {
    expect(secureWebPreferences('/app/dist/preload.js')).toEqual({
      preload: '/app/dist/preload.js',
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
    });
  });
});

describe('installWindowSecurity', () => {
  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])(
    'blocks %s away from the engine origin and allows it within',
    (name) => {
      const contents = windowContents();
      expect(fire(contents, name, 'https://evil.example/')).toBe(true);
      expect(fire(contents, name, 'http://127.0.0.1:51235/')).toBe(true);
      expect(fire(contents, name, 'http://localhost:51234/')).toBe(true);
      expect(fire(contents, name, 'file:///etc/passwd')).toBe(true);
      expect(fire(contents, name, `${ORIGIN}/#token=abc`)).toBe(false);
    },
  );

  it("follows the engine to its new origin after a restart, and allows nothing while it's down", () => {
    const contents = windowContents();
    currentOrigin = undefined;
    expect(fire(contents, 'will-navigate', `${ORIGIN}/`)).toBe(true);
    currentOrigin = 'http://127.0.0.1:40000';
    expect(fire(contents, 'will-navigate', `${ORIGIN}/`)).toBe(true);
    expect(fire(contents, 'will-navigate', 'http://127.0.0.1:40000/#token=new')).toBe(false);
  });

  it('denies every window.open', () => {
    const contents = windowContents();
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: `${ORIGIN}/` })).toEqual({ action: 'deny' });
  });

  it('refuses to attach <webview> tags', () => {
    const contents = windowContents();
    const event = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', event, {}, {});
    expect(event.preventDefault).toHaveBeenCalledOnce();
  });

  it('denies every permission request and check on the default session', () => {
    installWindowSecurity(() => ORIGIN);
    const ses = electron.session.defaultSession;
    const [requestHandler] = ses.setPermissionRequestHandler.mock.calls[0] as [
      (wc: unknown, permission: string, cb: (granted: boolean) => void) => void,
    ];
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read']) {
      const callback = vi.fn();
      requestHandler({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
    }
    const [checkHandler] = ses.setPermissionCheckHandler.mock.calls[0] as [
      (...args: unknown[]) => boolean,
    ];
    expect(checkHandler({}, 'media', ORIGIN, {})).toBe(false);
    const [deviceHandler] = ses.setDevicePermissionHandler.mock.calls[0] as [
      (details: unknown) => boolean,
    ];
    expect(deviceHandler({ deviceType: 'usb', origin: ORIGIN })).toBe(false);
  });

  it("adds the app's CSP to every response, beside the engine's own", () => {
    installWindowSecurity(() => ORIGIN);
    const [onHeaders] = electron.session.defaultSession.webRequest.onHeadersReceived.mock
      .calls[0] as [
      (details: unknown, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void,
    ];
    const callback = vi.fn();
    onHeaders(
      { responseHeaders: { 'content-security-policy': ["default-src 'self'"], a: ['b'] } },
      callback,
    );
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: {
        'content-security-policy': ["default-src 'self'", APP_CONTENT_SECURITY_POLICY],
        a: ['b'],
      },
    });
  });
});

describe('the app content security policy', () => {
  it('allows only own scripts and no plugins, base, forms or framing', () => {
    expect(APP_CONTENT_SECURITY_POLICY).toBe(
      "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(APP_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*|http:|https:|data:/);
  });

  it('is added to a response that has none', () => {
    expect(withAppCsp(undefined)).toEqual({
      'Content-Security-Policy': [APP_CONTENT_SECURITY_POLICY],
    });
  });
});

describe('external links', () => {
  it('are never opened: nothing in app/ calls shell.openExternal', () => {
    const dir = new URL('./', import.meta.url);
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(3);
    for (const file of sources) {
      expect(readFileSync(new URL(file, dir), 'utf8'), file).not.toMatch(
        /\.(openExternal|openPath)\s*\(/,
      );
    }
  });
});

describe('isTrustedSender', () => {
  it('accepts only frames on the exact engine origin', () => {
    expect(isTrustedSender(`${ORIGIN}/`, ORIGIN)).toBe(true);
    expect(isTrustedSender(`${ORIGIN}.evil.example/`, ORIGIN)).toBe(false);
    expect(isTrustedSender('https://127.0.0.1:51234/', ORIGIN)).toBe(false);
    expect(isTrustedSender('about:blank', ORIGIN)).toBe(false);
    expect(isTrustedSender(undefined, ORIGIN)).toBe(false);
    expect(isSameOrigin('not a url', ORIGIN)).toBe(false);
  });
});
