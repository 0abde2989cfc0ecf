// Keepsake's own guess at where a tape's clips begin (the tape analysis: changes of scene,
// black and silence), offered in "Clips on this tape" as a starting point the family then
// corrects: a strip of the proposed clips with small pictures of each (ClipStrip.tsx), a
// card pressed shows its place in the player. Nothing is taken until they press "Use the
// suggested clips", and that is an edit like any other: Undo takes it back, and only Save
// keeps it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useClient } from './client-context';
import type { TapeAnalysisView } from './engine-client';
import { ClipStrip } from './ClipStrip';
import { errorText } from './errors-text';

type Cut = NonNullable<TapeAnalysisView['analysis']>['cuts'][number];
type Recordings = NonNullable<TapeAnalysisView['analysis']>['recordings'];

const analysisKey = (fileId: string) => ['tape-analysis', fileId] as const;

export function ClipSuggestions(props: {
  fileId: string;
  /** `recordings`: a DV tape's, to date each clip by the camcorder's clock. */
  onUse: (cuts: Cut[], recordings: Recordings) => void;
  /** Shows a place on the tape in the player. */
  onSeek: (t: number) => void;
}) {
  const { fileId, onUse, onSeek } = props;
  const client = useClient();
  const queryClient = useQueryClient();
  const analysis = useQuery({
    queryKey: analysisKey(fileId),
    queryFn: () => client.tapeAnalysis(fileId),
    retry: false,
    // Asked again while it runs, to show how far it is and then what it found, and while
    // the pictures of its clips are being made.
    refetchInterval: (query) => {
      const data = query.state.data;
      return data?.state === 'queued' || data?.state === 'running' || data?.picturesPending
        ? 2000
        : false;
    },
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
          <button type="button" onClick={() => onUse(cuts, view.analysis?.recordings)}>
            Use the suggested clips
          </button>{' '}
          <span className="muted small">
            Keepsake found {cuts.length === 1 ? 'one place' : `${cuts.length} places`} where a new
            clip may begin. Press a clip below to see it; check each one before you save.
          </span>
          {view.clips && view.clips.length > 0 && (
            <ClipStrip clips={view.clips} pending={view.picturesPending === true} onSeek={onSeek} />
          )}
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
