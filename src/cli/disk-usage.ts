import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes in the files under `dir` (symbolic links counted as themselves, never followed); 0 if it does not exist. */
export async function diskUsage(dir: string): Promise<number> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await diskUsage(path);
    else
      total += await lstat(path).then(
        (st) => st.size,
        () => 0,
      );
  }
  return total;
}
