// react-query hooks for the Make screen's goals: the list (fixed while the engine runs),
// an estimate per goal and set of items, and starting one.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useClient } from './client-context';
import type { GoalId, StartGoalBody } from './engine-client';
import { rememberJob } from './live-jobs';

/**
 * The library's items, for the kinds and names of those chosen: the timeline's own query
 * (same key, same call), asked for only when items were chosen.
 */
export function useChosenItems(enabled: boolean) {
  const client = useClient();
  return useQuery({
    queryKey: ['library-items'],
    queryFn: () => client.libraryItems(),
    enabled,
  });
}

export function useGoals() {
  const client = useClient();
  return useQuery({ queryKey: ['goals'], queryFn: () => client.goals(), staleTime: Infinity });
}

/** The estimate for a goal on these items (asked again when they or the server change). */
export function useGoalEstimate(goal: GoalId, fileIds: readonly string[], remote?: string) {
  const client = useClient();
  return useQuery({
    queryKey: ['goal-estimate', goal, remote ?? '', ...fileIds],
    queryFn: () =>
      client.estimateGoal({ goal, fileIds: [...fileIds], ...(remote ? { remote } : {}) }),
    enabled: fileIds.length > 0,
    // Free room and measured speeds change as jobs run: fresh each time the screen opens.
    staleTime: 0,
    // Items still being looked at (their length not known yet): ask again until they are.
    refetchInterval: (query) => ((query.state.data?.unknownItems ?? 0) > 0 ? 2000 : false),
  });
}

export function useStartGoal() {
  const client = useClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: StartGoalBody) => client.startGoal(body),
    onSuccess: (started) => {
      for (const job of started.jobs) rememberJob(queryClient, job);
      // The items now list these jobs; the room left has changed.
      void queryClient.invalidateQueries({ queryKey: ['files'] });
      void queryClient.invalidateQueries({ queryKey: ['library-items'] });
      void queryClient.invalidateQueries({ queryKey: ['goal-estimate'] });
    },
  });
}
