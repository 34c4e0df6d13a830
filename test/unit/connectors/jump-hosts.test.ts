// What JumpHosts refuses before connecting anything. Connections through jump hosts, shared and
// chained, are tested on real sshd servers (test/integration/connectors/ssh-jump*.test.ts).
import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../../src/connectors/connector.ts';
import type { HostToConnect } from '../../../src/connectors/index.ts';
import { JumpHosts } from '../../../src/connectors/jump-hosts.ts';

function host(name: string, jump?: string, transport = 'ssh'): HostToConnect {
  return {
    name,
    address: `${name}.example`,
    port: 22,
    user: 'root',
    transport,
    ssh: { hostKeyChecking: 'strict', connectTimeout: 5, commandTimeout: 60, ...(jump ? { jump } : {}) },
  };
}

function jumpHosts(...hosts: HostToConnect[]): JumpHosts {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  return new JumpHosts((name) => byName.get(name));
}

function leaseError(hosts: JumpHosts, name: string, forHost: string): ConnectionError {
  try {
    hosts.lease(name, forHost);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectionError);
    return error as ConnectionError;
  }
  throw new Error('lease() did not throw');
}

describe('JumpHosts.lease', () => {
  it('refuses a jump host that is not in the inventory, anywhere along the chain', () => {
    const error = leaseError(jumpHosts(host('web1', 'bastion'), host('bastion', 'gateway')), 'bastion', 'web1');
    expect(error.host).toBe('web1');
    expect(error.message).toBe('the jump host gateway of bastion is not in the inventory');
    expect(error.hint).toBe('add gateway to the inventory, or correct ssh.jump of bastion');
  });

  it('refuses jump hosts that loop, with the whole loop', () => {
    const hosts = jumpHosts(host('web1', 'a'), host('a', 'b'), host('b', 'a'));
    expect(leaseError(hosts, 'a', 'web1').message).toBe('jump hosts form a loop: web1 -> a -> b -> a');
    expect(leaseError(jumpHosts(host('web1', 'a'), host('a', 'web1')), 'a', 'web1').message).toBe('jump hosts form a loop: web1 -> a -> web1');
  });

  it('refuses a jump host that is not reached over ssh', () => {
    const error = leaseError(jumpHosts(host('web1', 'box'), host('box', undefined, 'docker')), 'box', 'web1');
    expect(error.message).toBe('the jump host box of web1 has transport docker');
  });

  it('leases a jump host whose chain ends, and releasing an unused lease closes nothing that was opened', async () => {
    const hosts = jumpHosts(host('web1', 'inner'), host('inner', 'outer'), host('outer'));
    const lease = hosts.lease('inner', 'web1');
    await lease.release();
    await lease.release(); // a second release does nothing
  });
});
