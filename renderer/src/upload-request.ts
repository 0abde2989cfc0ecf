// A browser upload through XMLHttpRequest, because fetch cannot report how much it has
// sent; its failures are EngineErrors as the client's own requests make them.

import type { UploadedFile } from '../../engine/src/net/desktop-contract';
import { EngineError, badResponse, isApiError } from './engine-error';
import type { UploadOptions } from './engine-client';

/** An upload through XMLHttpRequest, for its progress events; errors as `send` makes them. */
export function uploadWithProgress(
  url: string,
  file: File,
  headers: Record<string, string>,
  opts: UploadOptions,
): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded);
    const abort = () => xhr.abort();
    opts.signal?.addEventListener('abort', abort, { once: true });
    const done = () => opts.signal?.removeEventListener('abort', abort);
    xhr.onload = () => {
      done();
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body !== undefined) {
        resolve(body as UploadedFile);
      } else if (isApiError(body)) {
        reject(new EngineError(body.code, body.message, xhr.status));
      } else {
        reject(badResponse(xhr.status));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new EngineError('ENGINE_UNREACHABLE', 'The engine is not reachable.', 0));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('The upload was stopped.', 'AbortError'));
    };
    xhr.send(file);
  });
}
