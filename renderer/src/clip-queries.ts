// react-query hooks for a tape's clips (ClipsPanel.tsx): the saved cut list, saving a new
// version, going back to an older one, and the CSV file in and out. Every save answers the
// list as the engine now holds it, which replaces the cached one.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Clip } from './clip-edits';
import { useClient } from './client-context';
import type { CutListView } from './engine-client';

const clipsKey = (fileId: string) => ['clips', fileId] as const;

export function useCutList(fileId: string) {
  const client = useClient();
  return useQuery({
    queryKey: clipsKey(fileId),
    queryFn: () => client.cutList(fileId),
    // The list is edited here; another window's save is found on Save (CUT_LIST_CHANGED).
    staleTime: Infinity,
    retry: false,
  });
}

export function useCutListActions(fileId: string) {
  const client = useClient();
  const queryClient = useQueryClient();
  const saved = (view: CutListView) => queryClient.setQueryData(clipsKey(fileId), view);
  const save = useMutation({
    mutationFn: (body: { basedOn: number; duration: number; clips: Clip[] }) =>
      client.saveCutList(fileId, body),
    onSuccess: saved,
  });
  /** The version before `latest` saved again as the newest: an undo that keeps history. */
  const restore = useMutation({
    mutationFn: async ({ version, latest }: { version: number; latest: number }) => {
      const old = await client.cutList(fileId, version);
      return client.saveCutList(fileId, { basedOn: latest, clips: old.clips });
    },
    onSuccess: saved,
  });
  const importCsv = useMutation({
    mutationFn: ({ basedOn, file }: { basedOn: number; file: Blob }) =>
      client.importCutListCsv(fileId, basedOn, file),
    onSuccess: saved,
  });
  const exportCsv = useMutation({
    mutationFn: async () => {
      const { name, csv } = await client.cutListCsv(fileId);
      // A download from memory: the page holds the file, nothing is written by the engine.
      const url = URL.createObjectURL(csv);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return name;
    },
  });
  const reload = () => queryClient.refetchQueries({ queryKey: clipsKey(fileId) });
  return { save, restore, importCsv, exportCsv, reload };
}
