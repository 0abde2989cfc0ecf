// Boots the UI. The engine that serves this page is the one it talks to (same origin),
// and the token comes from the URL fragment the engine printed.
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { createEngineClient, tokenFromHash } from './engine-client';
import { createQueryClient } from './queries';
import './app.css';

const client = createEngineClient({ token: tokenFromHash(window.location.hash) });
const queryClient = createQueryClient();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App client={client} />
    </QueryClientProvider>
  </StrictMode>,
);
