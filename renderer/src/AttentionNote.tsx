// Why an item needs attention: the family's sentence ("This video is damaged or
// incomplete: …"), and what the tools said only under a small "Details", for whoever
// helps them.
import type { LibraryItem } from './engine-client';

export function AttentionNote({
  item,
  fallback,
  className,
}: {
  item: Pick<LibraryItem, 'attentionDetail' | 'attentionTechnical'>;
  /** Said when the engine gave no sentence. */
  fallback?: string;
  className?: string;
}) {
  const sentence = item.attentionDetail ?? fallback;
  if (!sentence) return null;
  return (
    <div className={className} role="note" data-testid="attention-note">
      <p>{sentence}</p>
      {item.attentionTechnical && (
        <details className="attention-details muted small">
          <summary>Details</summary>
          <code className="wrap-anywhere" data-testid="attention-technical">
            {item.attentionTechnical}
          </code>
        </details>
      )}
    </div>
  );
}
