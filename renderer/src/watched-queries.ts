// Recently watched, as the engine keeps it (item ids and times only), and the one-time
// move of what older versions kept in the browser (old-choices.ts).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useClient } from './client-context';
import type { EngineClient } from './engine-client';
import { keys } from './queries';
import { moveOldChoices } from './old-choices';

const WATCHED = ['watched'] as const;

export function useRecentlyWatched() {
  const client = useClient();
  return useQuery({ queryKey: WATCHED, queryFn: () => client.recentlyWatched() });
}

/** Marks an item as just watched; a failure only costs the list an entry. */
export function useRememberWatched(): (fileId: string) => void {
  const client = useClient();
  const queryClient = useQueryClient();
  const mark = useMutation({
    mutationFn: (fileId: string) => client.rememberWatched([fileId]),
    onSuccess: (list) => queryClient.setQueryData(WATCHED, list),
  });
  return (fileId) => mark.mutate(fileId);
}

let moved = false;

/** Once per page load, when the engine answers: old browser values go to the engine. */
export function useMoveOldChoices(client: EngineClient, ready: boolean): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!ready || moved) return;
    moved = true;
    void moveOldChoices(client).then(() =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: WATCHED }),
        queryClient.invalidateQueries({ queryKey: keys.settings }),
      ]),
    );
  }, [client, ready, queryClient]);
}
