// One way to turn any failure into words for the screen: a sentence for the family, and
// the engine's code apart, for support (ErrorMessage.tsx shows it in small print).
import { EngineError } from './engine-client';

export interface ErrorParts {
  /** A sentence: capital first, full stop last. */
  text: string;
  /** The engine's (or the client's) code, when there is one. */
  code?: string;
}

/** "the disk is full" → "The disk is full." (the engine's messages are clauses). */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…)]$/.test(first) ? first : `${first}.`;
}

export function errorParts(err: unknown): ErrorParts {
  if (err instanceof EngineError) {
    if (err.code === 'ENGINE_UNREACHABLE') {
      return { text: 'The Keepsake engine cannot be reached.', code: err.code };
    }
    return { text: asSentence(err.message), code: err.code };
  }
  if (err instanceof Error) return { text: asSentence(err.message) };
  return { text: asSentence(String(err)) };
}

/** The sentence alone, where only plain text fits (a list of failures, a title). */
export function errorText(err: unknown): string {
  return errorParts(err).text;
}
