import { useEffect } from 'react';
import { ActivityScreen } from './ActivityScreen';
import { ClientContext } from './client-context';
import type { EngineClient } from './engine-client';
import { EngineError } from './engine-client';
import { ItemViewer } from './ItemViewer';
import { JobsScreen } from './JobsScreen';
import { KeyBanner } from './KeyBanner';
import { LibraryScreen } from './LibraryScreen';
import { MakeScreen } from './MakeScreen';
import { Nav } from './Nav';
import { useEngineStatus, useJobEvents, useVault } from './queries';
import { RecentlyWatchedScreen } from './RecentlyWatchedScreen';
import { ServersScreen } from './ServersScreen';
import { SettingsScreen } from './SettingsScreen';
import { StatusPanel } from './StatusPanel';
import { describeFfmpeg } from './status-text';
import { useUiStore } from './ui-store';
import type { ScreenId } from './ui-store';
import { VaultScreen } from './VaultScreen';
import { useMoveOldChoices } from './watched-queries';

const NEEDS_VAULT: ReadonlySet<ScreenId> = new Set([
  'library',
  'make',
  'jobs',
  'watched',
  'servers',
  'settings',
]);

export function App({ client }: { client: EngineClient }) {
  return (
    <ClientContext.Provider value={client}>
      <Shell client={client} />
    </ClientContext.Provider>
  );
}

function Shell({ client }: { client: EngineClient }) {
  const status = useEngineStatus(client);
  const vault = useVault();
  // Whichever answers first may tell that the token is wrong or the engine is gone.
  const blocked = [status.error, vault.error].some(
    (err) =>
      err instanceof EngineError &&
      (err.code === 'UNAUTHORIZED' || err.code === 'ENGINE_UNREACHABLE'),
  );
  const ffmpegMissing = status.data !== undefined && !describeFfmpeg(status.data.ffmpeg).ok;
  useMoveOldChoices(client, !blocked && status.data !== undefined);

  return (
    <div className="app">
      <header className="app-header">
        <h1>Keepsake</h1>
        <p className="tagline">Private encoding for family media</p>
      </header>
      {/* Without a working token or engine, only the status panel can say anything useful. */}
      {blocked ? null : <Main />}
      {/* The engine's facts live in Settings ("About this Keepsake"); the panel shows here
          only when something is wrong that the family must see at once, whatever the screen. */}
      {(blocked || ffmpegMissing) && (
        <footer className="app-footer">
          <StatusPanel client={client} />
        </footer>
      )}
    </div>
  );
}

function Main() {
  const vault = useVault();
  const screen = useUiStore((s) => s.screen);
  const go = useUiStore((s) => s.go);
  const notice = useUiStore((s) => s.notice);
  const clearNotice = useUiStore((s) => s.clearNotice);
  const events = useJobEvents();

  // The first screen: the vault until it is open, then the library. Later, a screen that
  // needs the vault sends the user back to it when it is locked.
  useEffect(() => {
    if (!vault.data) return;
    if (screen === undefined) go(vault.data.unlocked ? 'library' : 'vault');
    else if (!vault.data.unlocked && NEEDS_VAULT.has(screen)) {
      go('vault', vault.data.exists ? 'Unlock the vault to continue.' : 'Create a vault to begin.');
    }
  }, [screen, vault.data, go]);

  const current: ScreenId = screen ?? 'vault';
  return (
    <div className="layout">
      <Nav current={current} onGo={(id) => go(id)} events={events} />
      <main className="screen" id="screen" tabIndex={-1} data-testid={`screen-${current}`}>
        <KeyBanner />
        {notice && (
          <div className="notice" role="status">
            <span>{notice}</span>
            <button type="button" className="link" onClick={clearNotice} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
        {vault.isPending && screen === undefined ? (
          <p role="status">Opening Keepsake…</p>
        ) : (
          <ScreenView id={current} />
        )}
      </main>
      {/* Over whatever screen shows; only while the vault is open (it reads the library). */}
      {vault.data?.unlocked && <ItemViewer />}
    </div>
  );
}

function ScreenView({ id }: { id: ScreenId }) {
  switch (id) {
    case 'library':
      return <LibraryScreen />;
    case 'vault':
      return <VaultScreen />;
    case 'make':
      return <MakeScreen />;
    case 'jobs':
      return <JobsScreen />;
    case 'servers':
      return <ServersScreen />;
    case 'watched':
      return <RecentlyWatchedScreen />;
    case 'activity':
      return <ActivityScreen />;
    case 'settings':
      return <SettingsScreen />;
  }
}
