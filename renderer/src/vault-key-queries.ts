// react-query hooks for the vault's keys (password, recovery key). The query key sits
// under ['vault'], so every vault change (create, unlock, lock) refreshes it too.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useClient } from './client-context';
import type { NewRecoveryKeyBody, SetPasswordBody } from './engine-client';
import { judgeStrength, loadEstimator, type Estimator, type Strength } from './password-strength';
import { useVault } from './queries';

export const vaultKeysKey = ['vault', 'keys'] as const;

export function useVaultKeys() {
  const client = useClient();
  const vault = useVault();
  return useQuery({
    queryKey: vaultKeysKey,
    queryFn: () => client.vaultKeys(),
    enabled: vault.data !== undefined,
  });
}

export function useKeyActions() {
  const client = useClient();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: vaultKeysKey });
  return {
    setPassword: useMutation({
      mutationFn: (body: SetPasswordBody) => client.setPassword(body),
      onSuccess: refresh,
    }),
    // The key is handed to the caller (mutateAsync) and never kept in a cache.
    newRecoveryKey: useMutation({
      mutationFn: (body: NewRecoveryKeyBody) => client.newRecoveryKey(body),
    }),
    confirmRecoveryKey: useMutation({
      mutationFn: () => client.confirmRecoveryKey(),
      onSuccess: refresh,
    }),
  };
}

/**
 * The strength of `password` once the estimator has loaded (undefined until then). The
 * estimator (1.6 MB of dictionaries, built on the main thread) loads at the first typed
 * character, not when the form appears: loading it with the first screen made that screen
 * late to answer.
 */
export function usePasswordStrength(password: string): Strength | undefined {
  const [estimator, setEstimator] = useState<Estimator>();
  const wanted = password !== '';
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    loadEstimator().then(
      (e) => live && setEstimator(() => e),
      () => undefined, // the engine still checks; the meter just stays empty
    );
    return () => {
      live = false;
    };
  }, [wanted]);
  return estimator && password ? judgeStrength(estimator, password) : undefined;
}
