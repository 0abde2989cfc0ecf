// react-query hooks over the engine client: caching, retries and polling live here.
import { useQuery } from '@tanstack/react-query';
import type { EngineClient } from './engine-client';
import { EngineError } from './engine-client';
import { AUTO_REFRESH_MS, useUiStore } from './ui-store';

export function useEngineStatus(client: EngineClient) {
  const autoRefresh = useUiStore((s) => s.autoRefresh);
  return useQuery({
    queryKey: ['engine', 'status'],
    queryFn: () => client.status(),
    refetchInterval: autoRefresh ? AUTO_REFRESH_MS : false,
    // A wrong token will not get better by asking again.
    retry: (failures, err) =>
      !(err instanceof EngineError && err.code === 'UNAUTHORIZED') && failures < 2,
  });
}
