// Shown above every screen while it matters: after an unlock with the recovery key, the
// offer to set a new password; and a recovery key that was shown but never checked back
// brings the user to the Vault screen, which makes a new one (RecoveryKeyStep.tsx).
import { useEffect } from 'react';
import { useVault } from './queries';
import { useUiStore } from './ui-store';
import { useVaultKeys } from './vault-key-queries';

export function KeyBanner() {
  const vault = useVault();
  const keys = useVaultKeys();
  const screen = useUiStore((s) => s.screen);
  const guarded = useUiStore((s) => s.leaveGuard !== undefined);
  const go = useUiStore((s) => s.go);
  const unlocked = vault.data?.unlocked === true;
  const unconfirmed = unlocked && keys.data?.recoveryUnconfirmed === true;

  useEffect(() => {
    // Not while a key is on screen (Settings shows a new one with the mark already set).
    if (unconfirmed && !guarded && screen !== undefined && screen !== 'vault') {
      go('vault', 'Your recovery key still needs to be stored before you go on.');
    }
  }, [unconfirmed, guarded, screen, go]);

  if (!unlocked || keys.data?.unlockedWith !== 'recovery' || screen === 'settings') return null;
  return (
    <div className="callout banner" role="region" aria-label="New password">
      <p>
        <strong>You opened the vault with your recovery key.</strong> If the password was forgotten,
        set a new one now.
      </p>
      <button type="button" className="primary" onClick={() => go('settings')}>
        Set a new password
      </button>
    </div>
  );
}
