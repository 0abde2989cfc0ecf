// A job that saved its result into the family's folder (automated mode) says where, in
// plain words: "Saved to Videos › Keepsake › Christmas 1989.mp4". In the app, "Show in
// folder" opens the file manager on it; a browser cannot, so it shows the full path with
// a Copy button instead.
import { useRef, useState } from 'react';
import { canShowInFolder, showInFolder } from './bridge';
import { shortPath } from './delivery-words';
import type { DesktopJob } from './engine-client';
import './delivered.css';

type Delivery = NonNullable<DesktopJob['delivery']>;

export function DeliveredNote({ delivery }: { delivery: Delivery }) {
  if (delivery.state === 'saving') {
    return (
      <p className="delivered muted small" role="status" data-testid="delivered">
        Saving a copy to your folder…
      </p>
    );
  }
  if (delivery.state === 'failed') {
    return (
      <p className="delivered error small" role="alert" data-testid="delivered">
        Could not save a copy to your folder: {delivery.message}
      </p>
    );
  }
  return <Saved path={delivery.path} />;
}

function Saved({ path }: { path: string }) {
  const [note, setNote] = useState<string>();
  const field = useRef<HTMLInputElement>(null);
  const app = canShowInFolder();

  const show = async () => {
    setNote((await showInFolder(path)) ? undefined : 'The folder could not be opened.');
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(path);
      setNote('Copied.');
    } catch {
      // No clipboard here: the path is selected, for Ctrl+C.
      field.current?.select();
      setNote('Press Ctrl+C to copy it.');
    }
  };

  return (
    <div className="delivered small" data-testid="delivered">
      <span role="status">
        Saved to <strong title={path}>{shortPath(path)}</strong>
      </span>
      {app ? (
        <button type="button" className="link" onClick={() => void show()}>
          Show in folder
        </button>
      ) : (
        <span className="delivered-path">
          <input
            ref={field}
            type="text"
            readOnly
            value={path}
            aria-label="Where the copy was saved"
            spellCheck={false}
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" onClick={() => void copy()}>
            Copy
          </button>
        </span>
      )}
      {note && (
        <span className="muted" aria-live="polite">
          {note}
        </span>
      )}
    </div>
  );
}
