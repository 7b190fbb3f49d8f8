import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every file below `dir`, as paths relative to it, sorted (a missing folder has none). */
export const filesUnder = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(at, entry.name));
      else out.push(relative(dir, join(at, entry.name)));
    }
  };
  await walk(dir);
  return out.sort();
};
