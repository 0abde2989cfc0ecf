// A photo in the viewer, as large as the screen allows: the screen-size preview at once,
// then the original from the vault where the browser can show it. Zoom with the buttons,
// the wheel or a pinch (around the pointer), double-click for 100 % (and back), and drag
// to move around a zoomed photo.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PointerEvent as ReactPointerEvent } from 'react';

type Size = { w: number; h: number };
/** Fitted to the stage, or a chosen width (CSS px) at a position (image top-left). */
type View = { fit: true } | { fit: false; w: number; x: number; y: number };

/** How far past 100 % the zoom goes. */
const MAX_ZOOM = 4;
const STEP = 1.25;

export function PhotoStage(props: {
  preview: string | undefined;
  /** The original, when the browser can show it. */
  original: string | undefined;
  label: string;
}) {
  const [src, setSrc] = useState(props.preview ?? props.original);
  const [natural, setNatural] = useState<Size>();
  const [box, setBox] = useState<Size>();
  const [view, setView] = useState<View>({ fit: true });
  const stage = useRef<HTMLDivElement>(null);

  // The original replaces the preview once it has decoded, so the picture never blanks.
  useEffect(() => {
    const { original } = props;
    if (!original || original === src) return;
    let gone = false;
    const img = new Image();
    img.src = original;
    img.decode().then(
      () => !gone && setSrc(original),
      () => {}, // the preview stays
    );
    return () => {
      gone = true;
    };
    // Only when the original changes: src is what it replaces.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.original]);

  useEffect(() => {
    const el = stage.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setBox({ w: entry.contentRect.width, h: entry.contentRect.height });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const aspect = natural ? natural.h / natural.w : 1;
  const fitW = natural && box ? Math.min(natural.w, box.w, box.h / aspect) : 0;
  const place = useCallback(
    (w: number, x: number, y: number): View => {
      if (!box) return { fit: true };
      const h = w * aspect;
      const clampAxis = (v: number, size: number, room: number) =>
        size <= room ? (room - size) / 2 : Math.min(0, Math.max(room - size, v));
      return { fit: false, w, x: clampAxis(x, w, box.w), y: clampAxis(y, h, box.h) };
    },
    [box, aspect],
  );
  const current = (): { w: number; x: number; y: number } =>
    view.fit || !box
      ? { w: fitW, x: ((box?.w ?? 0) - fitW) / 2, y: ((box?.h ?? 0) - fitW * aspect) / 2 }
      : view;

  /** Zooms to width `w`, keeping the picture point under (px, py) where it is. */
  const zoomTo = (target: number, px?: number, py?: number) => {
    if (!natural || !box) return;
    const now = current();
    const w = Math.min(Math.max(target, fitW), natural.w * MAX_ZOOM);
    if (w <= fitW + 0.5) return setView({ fit: true });
    const ax = px ?? box.w / 2;
    const ay = py ?? box.h / 2;
    const k = w / now.w;
    setView(place(w, ax - (ax - now.x) * k, ay - (ay - now.y) * k));
  };
  const zoomBy = (factor: number, px?: number, py?: number) => zoomTo(current().w * factor, px, py);
  // Handlers that read the latest view (the wheel listener is attached once per change).
  const zoomRef = useRef(zoomBy);
  useEffect(() => {
    zoomRef.current = zoomBy;
  });

  // React's wheel listener is passive: the page would scroll too.
  useEffect(() => {
    const el = stage.current;
    if (!el) return;
    const wheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      // A trackpad pinch arrives as a wheel with ctrlKey, in small steps.
      const factor = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.002));
      zoomRef.current(factor, e.clientX - r.left, e.clientY - r.top);
    };
    el.addEventListener('wheel', wheel, { passive: false });
    return () => el.removeEventListener('wheel', wheel);
  }, []);

  // Dragging (one pointer) and pinching (two).
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const onPointerDown = (e: ReactPointerEvent) => {
    pointers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: ReactPointerEvent) => {
    const before = pointers.current.get(e.pointerId);
    if (!before) return;
    const r = e.currentTarget.getBoundingClientRect();
    if (pointers.current.size === 2) {
      const other = [...pointers.current.entries()].find(([id]) => id !== e.pointerId)?.[1];
      if (!other) return;
      const was = Math.hypot(before.x - other.x, before.y - other.y);
      const is = Math.hypot(e.clientX - other.x, e.clientY - other.y);
      if (was > 0) {
        zoomBy(is / was, (e.clientX + other.x) / 2 - r.left, (e.clientY + other.y) / 2 - r.top);
      }
    } else if (!view.fit) {
      setView(place(view.w, view.x + e.clientX - before.x, view.y + e.clientY - before.y));
    }
    pointers.current.set(e.pointerId, { x: e.clientX, y: e.clientY });
  };
  const onPointerUp = (e: ReactPointerEvent) => pointers.current.delete(e.pointerId);

  const now = current();
  const percent = natural && now.w > 0 ? Math.round((now.w / natural.w) * 100) : undefined;
  const atFull = natural !== undefined && Math.abs(now.w - natural.w) < 1;

  return (
    <div className="photo-stage">
      <div
        ref={stage}
        className={`photo-frame${view.fit ? '' : ' zoomed'}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onDoubleClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          if (atFull) setView({ fit: true });
          else if (natural) zoomTo(natural.w, e.clientX - r.left, e.clientY - r.top);
        }}
      >
        {src && (
          <img
            src={src}
            alt={props.label}
            draggable={false}
            data-testid="viewer-photo"
            data-source={src === props.original ? 'original' : 'preview'}
            onLoad={(e) =>
              setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })
            }
            style={
              natural && box
                ? {
                    width: now.w,
                    height: now.w * aspect,
                    transform: `translate(${now.x}px, ${now.y}px)`,
                  }
                : { visibility: 'hidden' }
            }
          />
        )}
        {!src && <p className="muted">There is no picture of this photo yet.</p>}
      </div>
      <div className="zoom-bar" role="group" aria-label="Zoom">
        <button type="button" onClick={() => zoomBy(1 / STEP)} disabled={view.fit}>
          <span aria-hidden="true">−</span>
          <span className="visually-hidden">Zoom out</span>
        </button>
        <span className="zoom-level" data-testid="zoom-level" aria-live="polite">
          {percent === undefined ? '' : `${percent} %`}
        </span>
        <button
          type="button"
          onClick={() => zoomBy(STEP)}
          disabled={!natural || now.w >= natural.w * MAX_ZOOM - 0.5}
        >
          <span aria-hidden="true">+</span>
          <span className="visually-hidden">Zoom in</span>
        </button>
        <button type="button" onClick={() => setView({ fit: true })} disabled={view.fit}>
          Fit to screen
        </button>
        <button type="button" onClick={() => natural && zoomTo(natural.w)} disabled={atFull}>
          Actual size
        </button>
      </div>
    </div>
  );
}
