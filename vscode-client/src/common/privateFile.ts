/** Files only the user can read, for the one place a token is written to disk. No `vscode` import. */
import * as fs from 'node:fs/promises';

/** A new 0600 file renamed over `file`: an existing file's wider mode never carries over. */
export async function writePrivateFile(file: string, content: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
