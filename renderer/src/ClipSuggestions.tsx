// Keepsake's own guess at where a tape's clips begin (the tape analysis: changes of scene,
// black and silence), offered in "Clips on this tape" as a starting point the family then
// corrects. Nothing is taken until they press "Use the suggested clips", and that is an
// edit like any other: Undo takes it back, and only Save keeps it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useClient } from './client-context';
import type { TapeAnalysisView } from './engine-client';
import { errorText } from './errors-text';

type Cut = NonNullable<TapeAnalysisView['analysis']>['cuts'][number];

const analysisKey = (fileId: string) => ['tape-analysis', fileId] as const;

export function ClipSuggestions(props: { fileId: string; onUse: (cuts: Cut[]) => void }) {
  const { fileId, onUse } = props;
  const client = useClient();
  const queryClient = useQueryClient();
  const analysis = useQuery({
    queryKey: analysisKey(fileId),
    queryFn: () => client.tapeAnalysis(fileId),
    retry: false,
    // Asked again while it runs, to show how far it is and then what it found.
    refetchInterval: (query) =>
      query.state.data?.state === 'queued' || query.state.data?.state === 'running' ? 2000 : false,
  });
  const start = useMutation({
    mutationFn: () => client.analyseTape(fileId),
    onSuccess: (view) => queryClient.setQueryData(analysisKey(fileId), view),
  });
  const view = analysis.data;
  // An analysis that cannot be asked for (an old engine, say) leaves hand cutting as it is.
  if (!view) return null;

  const find = (label: string) => (
    <button type="button" disabled={start.isPending} onClick={() => start.mutate()}>
      {label}
    </button>
  );
  let said;
  if (view.state === 'none') {
    said = (
      <>
        {find('Find where the clips begin')}{' '}
        <span className="muted small">
          Keepsake looks through the tape for changes of scene, black and silence.
        </span>
      </>
    );
  } else if (view.state === 'queued' || view.state === 'running') {
    const percent = view.state === 'running' ? Math.floor(view.percent ?? 0) : undefined;
    said = (
      <span role="status">
        Looking through the tape for where clips begin…
        {percent !== undefined ? ` ${percent}%` : ''}
      </span>
    );
  } else if (view.state === 'succeeded' && view.analysis) {
    const cuts = view.analysis.cuts;
    said =
      cuts.length === 0 ? (
        <span className="muted">
          Keepsake found no change of scene on this tape: split it by hand.
        </span>
      ) : (
        <>
          <button type="button" onClick={() => onUse(cuts)}>
            Use the suggested clips
          </button>{' '}
          <span className="muted small">
            Keepsake found {cuts.length === 1 ? 'one place' : `${cuts.length} places`} where a new
            clip may begin. Check each one before you save.
          </span>
        </>
      );
  } else {
    said = (
      <span role="alert">
        The tape could not be looked through
        {view.error ? `: ${view.error.message}` : '.'} {find('Try again')}
      </span>
    );
  }
  return (
    <div className="clip-suggestions" data-testid="clip-suggestions">
      {said}
      {start.isError && <span role="alert"> It could not start: {errorText(start.error)}</span>}
    </div>
  );
}
