// The engine client for every screen, without threading it through props.
import { createContext, useContext } from 'react';
import type { EngineClient } from './engine-client';

export const ClientContext = createContext<EngineClient | undefined>(undefined);

export function useClient(): EngineClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient needs a <ClientContext.Provider>');
  return client;
}
