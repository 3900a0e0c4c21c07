import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESTART_SETTINGS } from '../src/common/settings';

interface Manifest {
  main: string;
  extensionKind: string[];
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    authentication: { id: string; label: string }[];
    commands: { command: string; title: string; category: string }[];
    configuration: { properties: Record<string, { scope?: string; default?: unknown }> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as Manifest;

describe('package.json contributions', () => {
  it('points at the esbuild bundle', () => {
    expect(manifest.main).toBe('./dist/extension.js');
  });

  it('runs where the workspace is (the store, terminals and store watcher live there)', () => {
    expect(manifest.extensionKind).toEqual(['workspace']);
  });

  it('contributes the user commands under the tokenwarden category', () => {
    const commands = manifest.contributes.commands.map((c) => c.command);
    for (const id of ['signIn', 'signOut', 'refresh', 'showStatus', 'showLog', 'getSessionToken']) {
      expect(commands).toContain(`tokenwarden.${id}`);
    }
    expect(manifest.contributes.commands.every((c) => c.category === 'tokenwarden' && c.title !== '')).toBe(true);
  });

  it('contributes every setting with its default', () => {
    const props = manifest.contributes.configuration.properties;
    expect(Object.keys(props).sort()).toEqual([
      'tokenwarden.openBrowser',
      'tokenwarden.profile',
      'tokenwarden.profiles',
      'tokenwarden.server.command',
      'tokenwarden.server.python',
      'tokenwarden.trace.server',
      'tokenwarden.warnBeforeExpirySeconds',
    ]);
    expect(props['tokenwarden.profile']?.default).toBe('default');
    expect(props['tokenwarden.warnBeforeExpirySeconds']?.default).toBe(300);
    expect(props['tokenwarden.openBrowser']?.default).toBe(true);
  });

  it('never takes the server command or the issuers from a workspace', () => {
    const props = manifest.contributes.configuration.properties;
    expect(props['tokenwarden.server.command']?.scope).toBe('machine');
    expect(props['tokenwarden.server.python']?.scope).toBe('machine');
    expect(props['tokenwarden.profiles']?.scope).toBe('application');
  });

  it('restarts the server on every setting that reaches it', () => {
    const props = Object.keys(manifest.contributes.configuration.properties);
    expect(RESTART_SETTINGS.every((name) => props.includes(name))).toBe(true);
    expect(props.filter((name) => !RESTART_SETTINGS.includes(name))).toEqual(['tokenwarden.trace.server']);
  });

  it('declares the tokenwarden authentication provider and activates for it', () => {
    expect(manifest.contributes.authentication).toEqual([{ id: 'tokenwarden', label: 'tokenwarden' }]);
    expect(manifest.activationEvents).toContain('onAuthenticationRequest:tokenwarden');
  });
});
