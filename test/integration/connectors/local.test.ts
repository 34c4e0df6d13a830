// The local connector: the connector contract (contract.ts) with dash and with busybox sh.
import { chmod, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector, ConnectorOptions } from '../../../src/connectors/connector.ts';
import { createConnector } from '../../../src/connectors/index.ts';
import { LocalConnector } from '../../../src/connectors/local.ts';
import { connectorContract } from './contract.ts';

describe('local connector', () => {
  let dir: string;
  let busyboxSh: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provision-local-test-'));
    await chmod(dir, 0o755);
    busyboxSh = join(dir, 'sh');
    await symlink('/usr/bin/busybox', busyboxSh);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function target(overrides: Partial<ConnectionTarget> = {}, ssh: Partial<ConnectionTarget['ssh']> = {}): ConnectionTarget {
    return {
      name: 'control',
      address: 'localhost',
      port: 22,
      user: 'root',
      transport: 'local',
      ...overrides,
      ssh: { hostKeyChecking: 'strict', connectTimeout: 5, commandTimeout: 60, ...ssh },
    };
  }

  function connector(t: ConnectionTarget = target(), options: ConnectorOptions = {}): Connector {
    const c = createConnector(t, { env: {}, ...options });
    open.push(c);
    return c;
  }

  it('is what createConnector makes for transport local', () => {
    expect(connector()).toBeInstanceOf(LocalConnector);
  });

  it('needs no sudo when it runs as root already', async () => {
    // No password variable is set: using sudo would fail.
    const c = connector(target({ become: { sudo: true, passwordEnv: 'UNSET_SUDO_PASSWORD' } }));
    const expected = process.getuid?.() === 0 ? '0\n' : undefined;
    if (expected) expect((await c.run('id -u\n')).stdout).toBe(expected);
    else await expect(c.run('id -u\n')).rejects.toThrow('$UNSET_SUDO_PASSWORD, which is not set');
  });

  describe('with dash', () => {
    connectorContract({ connector: (settings) => connector(target({}, settings)), dir: () => dir });
  });

  describe('with busybox sh', () => {
    it('really runs busybox', async () => {
      expect((await connector(target(), { shell: busyboxSh }).run('readlink /proc/$$/exe\n')).stdout).toBe('/usr/bin/busybox\n');
    });
    connectorContract({ connector: (settings) => connector(target({}, settings), { shell: busyboxSh }), dir: () => dir });
  });
});
