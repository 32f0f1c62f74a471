import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { loadConfig } from './load.ts';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: tmpdir() });

describe('exec config', () => {
  it('splits lists and keeps safe defaults', () => {
    const c = load({ WARDEN_EXEC_ALLOWED_UNITS: 'nginx.service, app@1.service' });
    expect(c.exec.allowedUnits).toEqual(['nginx.service', 'app@1.service']);
    expect(c.exec.bwrap).toBe('auto');
    expect(c.mcp.host).toBe('127.0.0.1');
  });

  it('refuses a blocked pattern that is not a regular expression, naming the variable', () => {
    expect(() => load({ WARDEN_EXEC_BLOCKED_PATTERNS: 'ok,(unclosed' })).toThrow(
      /WARDEN_EXEC_BLOCKED_PATTERNS.*valid regular expression/,
    );
  });

  it('refuses unit names that could carry shell syntax and a short MCP token', () => {
    expect(() => load({ WARDEN_EXEC_ALLOWED_UNITS: 'nginx;reboot' })).toThrow(
      /WARDEN_EXEC_ALLOWED_UNITS/,
    );
    expect(() => load({ WARDEN_MCP_TOKEN: 'short' })).toThrow(/WARDEN_MCP_TOKEN/);
  });
});
