// A message that reports ("Retrying…", "Job added") goes away by itself after a few
// seconds; errors are not given to this, so they stay until closed.
import { useEffect, useRef } from 'react';
import { NOTICE_MS } from './ui-store';

/** Calls `clear` NOTICE_MS after `message` last changed to something shown. */
export function useAutoDismiss(message: string | undefined, clear: () => void): void {
  const latest = useRef(clear);
  useEffect(() => {
    latest.current = clear;
  });
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => latest.current(), NOTICE_MS);
    return () => clearTimeout(timer);
  }, [message]);
}
