import type { EngineClient } from './engine-client';
import { StatusPanel } from './StatusPanel';

export function App({ client }: { client: EngineClient }) {
  return (
    <main className="app">
      <header>
        <h1>Keepsake</h1>
        <p className="tagline">Private encoding for family media</p>
      </header>
      <StatusPanel client={client} />
    </main>
  );
}
