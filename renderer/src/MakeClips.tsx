// "Make these clips": the tape's saved clips become videos of their own in the library
// (the engine's tape/clip-export.ts). Only clips not made before get made; the tape itself
// is only read. What was started is said in words, with where the clips will appear.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useClient } from './client-context';
import { errorText } from './errors-text';
import { madeClipsText } from './made-clips-text';
import { keys } from './queries';

export function MakeClips({
  fileId,
  disabled,
  onMessage,
}: {
  fileId: string;
  disabled: boolean;
  onMessage: (text: string) => void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const make = useMutation({
    mutationFn: () => client.makeClips(fileId),
    onSuccess: (made) => {
      onMessage(madeClipsText(made));
      // The jobs show on the Jobs screen and under the tape's "Made from this".
      void queryClient.invalidateQueries({ queryKey: keys.jobs });
      void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
    },
    onError: (err) => onMessage(`The clips were not made: ${errorText(err)}`),
  });
  return (
    <button
      type="button"
      disabled={disabled || make.isPending}
      title={disabled ? 'Save the clips first: the saved ones are made' : undefined}
      onClick={() => make.mutate()}
    >
      {make.isPending ? 'Starting…' : 'Make these clips'}
    </button>
  );
}
