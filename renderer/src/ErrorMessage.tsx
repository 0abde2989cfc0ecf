// An engine error as the family reads it: the sentence, then its code in small print for
// support ("code DISK_FULL, for support"), never run together as "… (DISK_FULL)".
import type { ReactNode } from 'react';
import { errorParts } from './errors-text';

/** The code's small print, after a sentence; `title` holds a fuller technical reason. */
export function ErrorCode({ code, title }: { code: string | undefined; title?: string }) {
  if (!code) return null;
  return (
    <small className="error-code" title={title} data-testid="error-code">
      code {code}, for support
    </small>
  );
}

/** Any failure: an optional lead-in ("Could not cancel:"), the sentence, the code. */
export function ErrorMessage({ error, lead }: { error: unknown; lead?: ReactNode }) {
  const { text, code } = errorParts(error);
  return (
    <>
      {lead}
      {lead ? ' ' : ''}
      {text} <ErrorCode code={code} />
    </>
  );
}
