import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writePrivateFile } from '../src/common/privateFile';

describe('writePrivateFile', () => {
  it('creates the file readable only by the user', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-private-'));
    const file = path.join(dir, 'token.txt');
    await writePrivateFile(file, 'secret-value');
    expect(fs.readFileSync(file, 'utf8')).toBe('secret-value');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('replaces an existing 0644 file instead of keeping its mode', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-private-'));
    const file = path.join(dir, 'token.txt');
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await writePrivateFile(file, 'new');
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['token.txt']);
  });
});
