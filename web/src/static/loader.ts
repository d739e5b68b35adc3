/** Fetches (once) and caches the JSON files of a static export. */
import { staticUrl } from "../api/staticMode";

const cache = new Map<string, Promise<unknown>>();

export class StaticDataError extends Error {}

export function loadStatic<T>(file: string): Promise<T> {
  let hit = cache.get(file);
  if (!hit) {
    const url = staticUrl(file);
    hit = fetch(url).then(async (res) => {
      if (!res.ok) throw new StaticDataError(`static export: ${url} answered HTTP ${res.status}`);
      try {
        return (await res.json()) as unknown;
      } catch {
        throw new StaticDataError(`static export: ${url} is not valid JSON`);
      }
    });
    hit.catch(() => cache.delete(file)); // a failed file can be retried
    cache.set(file, hit);
  }
  return hit as Promise<T>;
}
