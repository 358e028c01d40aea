import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInvocation, urlHost } from '../../src/app/banner.js';

describe('the command the banner tells people to run', () => {
  const project = mkdtempSync(join(tmpdir(), 'ms-inv-'));
  const entry = join(project, 'node_modules', 'mothership', 'bin', 'mothership.js');
  mkdirSync(join(project, 'node_modules', 'mothership', 'bin'), { recursive: true });
  mkdirSync(join(project, 'node_modules', '.bin'));
  writeFileSync(entry, '');
  symlinkSync(entry, join(project, 'node_modules', '.bin', 'mothership'));

  it('npx mothership in a project that depends on it (node_modules/.bin/mothership is this program)', () => {
    expect(cliInvocation(entry, project, '/usr/bin')).toBe('npx mothership');
  });

  it('mothership when that name on PATH is this program (npm install -g)', () => {
    const bin = mkdtempSync(join(tmpdir(), 'ms-path-'));
    symlinkSync(entry, join(bin, 'mothership'));
    expect(cliInvocation(entry, '/', `/usr/bin:${bin}`)).toBe('mothership');
  });

  it('node and the entry, relative to the working folder, in a checkout (npm start)', () => {
    const checkout = mkdtempSync(join(tmpdir(), 'ms-checkout-'));
    mkdirSync(join(checkout, 'bin'));
    writeFileSync(join(checkout, 'bin', 'mothership.js'), '');
    expect(cliInvocation(join(checkout, 'bin', 'mothership.js'), checkout, '/usr/bin')).toBe(
      'node bin/mothership.js',
    );
  });
});

describe('URLs', () => {
  it('IPv6 addresses in brackets, IPv4 and names as they are', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('fd00::5')).toBe('[fd00::5]');
    expect(urlHost('192.168.1.20')).toBe('192.168.1.20');
    expect(urlHost('mypc.local')).toBe('mypc.local');
  });
});
