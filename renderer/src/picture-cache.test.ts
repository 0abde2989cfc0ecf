// The cache with Node's own object URLs (URL.createObjectURL and resolveObjectURL behave
// as a browser's do: a revoked URL no longer resolves to its blob).
import { resolveObjectURL } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { PictureCache, PictureLetGo } from './picture-cache';

/** A loader whose "picture" is its own source as bytes, counting the fetches. */
function loader() {
  const fetched: string[] = [];
  const load = (src: string) => {
    fetched.push(src);
    return Promise.resolve({ blob: new Blob([src]), width: 1600, height: 120 });
  };
  return { fetched, load };
}

const held = (url: string) => resolveObjectURL(url) !== undefined;

describe('PictureCache', () => {
  it('fetches a picture once and hands back the same object URL', async () => {
    const { fetched, load } = loader();
    const cache = new PictureCache({ limit: 3, load });
    const [a, b] = await Promise.all([cache.get('/pic/a'), cache.get('/pic/a')]);
    const again = await cache.get('/pic/a');
    expect(fetched).toEqual(['/pic/a']);
    expect(a).toBe(b);
    expect(again).toBe(a);
    expect(a).toMatchObject({ width: 1600, height: 120 });
    expect(await resolveObjectURL(a.url)?.text()).toBe('/pic/a');
    cache.clear();
  });

  it('revokes the least recently used picture beyond its limit', async () => {
    const { fetched, load } = loader();
    const cache = new PictureCache({ limit: 2, load });
    const a = await cache.get('a');
    const b = await cache.get('b');
    // Asking whether b is held does not count as using it; using a makes b the oldest.
    expect(cache.has('b')).toBe(true);
    expect(cache.peek('a')).toBe(a);
    const c = await cache.get('c');
    expect(cache.size).toBe(2);
    expect(held(b.url)).toBe(false);
    expect(held(a.url)).toBe(true);
    expect(held(c.url)).toBe(true);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.has('b')).toBe(false);
    // b comes back only by fetching it again, which now lets a go.
    const b2 = await cache.get('b');
    expect(b2.url).not.toBe(b.url);
    expect(fetched).toEqual(['a', 'b', 'c', 'b']);
    expect(held(a.url)).toBe(false);
    cache.clear();
  });

  it('clear revokes everything, and a load finishing after it is not kept', async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((ok) => (release = ok));
    const created: string[] = [];
    const cache = new PictureCache({
      limit: 5,
      load: async (src) => {
        if (src === 'slow') await slow;
        return { blob: new Blob([src]), width: 10, height: 10 };
      },
      createUrl: (blob) => {
        const url = URL.createObjectURL(blob);
        created.push(url);
        return url;
      },
    });
    const a = await cache.get('a');
    const late = cache.get('slow');
    cache.clear();
    expect(held(a.url)).toBe(false);
    expect(cache.size).toBe(0);
    release();
    await expect(late).rejects.toBeInstanceOf(PictureLetGo);
    expect(cache.size).toBe(0);
    // Only a's URL was ever made, and it is revoked.
    expect(created).toEqual([a.url]);
  });

  it('forgets a failed load, so the next hover tries again', async () => {
    let fail = true;
    const cache = new PictureCache({
      limit: 2,
      load: (src) =>
        fail
          ? Promise.reject(new Error('no'))
          : Promise.resolve({ blob: new Blob([src]), width: 1, height: 1 }),
    });
    await expect(cache.get('a')).rejects.toThrow('no');
    fail = false;
    expect((await cache.get('a')).width).toBe(1);
    cache.clear();
  });
});
