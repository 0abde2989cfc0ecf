// One way to turn any failure into a sentence for the screen.
import { EngineError } from './engine-client';

export function errorText(err: unknown): string {
  if (err instanceof EngineError) {
    if (err.code === 'ENGINE_UNREACHABLE') return 'The Keepsake engine cannot be reached.';
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
