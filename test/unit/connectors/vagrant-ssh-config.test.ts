// What `vagrant ssh-config` prints (fixtures from VirtualBox, libvirt and Windows hosts) and the
// ssh connection the vagrant connector makes of it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionTarget } from '../../../src/connectors/connector.ts';
import { parseSshConfig, sshTargetFromConfig, type SshConfigHost } from '../../../src/connectors/vagrant.ts';
import { fixture } from '../inventory/files.ts';

const vagrantFixture = (name: string) => readFileSync(path.join(fixture('vagrant'), name), 'utf8');

describe('parseSshConfig', () => {
  it('reads VirtualBox output: a forwarded port on loopback, no host key checking', () => {
    expect(parseSshConfig(vagrantFixture('ssh-config-virtualbox.txt'))).toEqual([
      {
        host: 'lvs-master',
        hostName: '127.0.0.1',
        user: 'vagrant',
        port: 2222,
        identityFiles: ['/home/ops/lvs-lab/.vagrant/machines/lvs-master/virtualbox/private_key'],
        strictHostKeyChecking: 'no',
        userKnownHostsFile: '/dev/null',
      },
    ]);
  });

  it('reads libvirt output: the machine\'s own address and port 22', () => {
    expect(parseSshConfig(vagrantFixture('ssh-config-libvirt.txt'))).toMatchObject([{ host: 'web1', hostName: '192.168.121.57', port: 22 }]);
  });

  it('reads Windows output: CRLF line ends, quoted paths with spaces, several keys in order', () => {
    expect(parseSshConfig(vagrantFixture('ssh-config-windows.txt'))).toMatchObject([
      {
        host: 'web2',
        port: 2201,
        identityFiles: ['C:/Users/Jane Doe/lvs lab/.vagrant/machines/web2/virtualbox/private_key', 'C:/Users/Jane Doe/.vagrant.d/insecure_private_key'],
      },
    ]);
  });

  it('follows ssh_config(5): case-insensitive keywords, "=" separators, comments, the first value wins', () => {
    const text = ['# made by hand', 'User ignored-before-any-host', 'Host a', '  hostname=10.0.0.1', '  PORT = 2200', '  Port 2300', '  user root', 'Host b', '  HostName 10.0.0.2', ''].join('\n');
    expect(parseSshConfig(text)).toEqual([
      { host: 'a', hostName: '10.0.0.1', port: 2200, user: 'root', identityFiles: [] },
      { host: 'b', hostName: '10.0.0.2', identityFiles: [] },
    ]);
  });

  it('refuses a port that is not one, and an unterminated quote', () => {
    expect(() => parseSshConfig('Host a\n  Port 22x\n')).toThrow('ssh-config line 2: Port "22x" is not a port number');
    expect(() => parseSshConfig('Host a\n  IdentityFile "/no/end\n')).toThrow('ssh-config line 2: unterminated quote');
  });

  it('has no host in empty output', () => {
    expect(parseSshConfig('')).toEqual([]);
  });
});

describe('sshTargetFromConfig', () => {
  const host: ConnectionTarget = {
    name: 'lvs-master',
    address: '192.168.2.250',
    port: 22,
    user: 'root',
    transport: 'vagrant',
    vagrant: { dir: '/home/ops/lvs-lab', machine: 'lvs-master' },
    become: { sudo: true },
    ssh: { hostKeyChecking: 'accept-new', connectTimeout: 7, commandTimeout: 900 },
  };
  const [virtualbox] = parseSshConfig(vagrantFixture('ssh-config-virtualbox.txt')) as [SshConfigHost];

  it('connects where Vagrant says, as its user with its key; keeps become and the timeouts', () => {
    expect(sshTargetFromConfig(host, virtualbox, () => true)).toEqual({
      ...host,
      transport: 'ssh',
      address: '127.0.0.1',
      port: 2222,
      user: 'vagrant',
      key: '/home/ops/lvs-lab/.vagrant/machines/lvs-master/virtualbox/private_key',
      // Vagrant's own policy: machines get new host keys when recreated.
      ssh: { hostKeyChecking: 'off', connectTimeout: 7, commandTimeout: 900 },
    });
  });

  it('uses the first key that exists', () => {
    const [windows] = parseSshConfig(vagrantFixture('ssh-config-windows.txt')) as [SshConfigHost];
    expect(sshTargetFromConfig(host, windows, (file) => file.endsWith('insecure_private_key')).key).toBe('C:/Users/Jane Doe/.vagrant.d/insecure_private_key');
    // None exists: the first, so that the error names the key Vagrant meant.
    expect(sshTargetFromConfig(host, windows, () => false).key).toBe('C:/Users/Jane Doe/lvs lab/.vagrant/machines/web2/virtualbox/private_key');
  });

  it.each([
    ['yes', '/home/ops/.ssh/lab_known_hosts', { hostKeyChecking: 'strict', knownHosts: '/home/ops/.ssh/lab_known_hosts' }],
    ['accept-new', undefined, { hostKeyChecking: 'accept-new' }],
    ['off', undefined, { hostKeyChecking: 'off' }],
    [undefined, undefined, { hostKeyChecking: 'accept-new' }], // not said: the inventory's setting
  ])('StrictHostKeyChecking %s, UserKnownHostsFile %s', (strict, file, expected) => {
    const config: SshConfigHost = { host: 'x', hostName: '127.0.0.1', identityFiles: [], ...(strict ? { strictHostKeyChecking: strict } : {}), ...(file ? { userKnownHostsFile: file } : {}) };
    expect(sshTargetFromConfig(host, config, () => true).ssh).toEqual({ connectTimeout: 7, commandTimeout: 900, ...expected });
  });

  it('keeps the inventory user and no key when the config names neither', () => {
    const target = sshTargetFromConfig(host, { host: 'x', hostName: '10.0.0.5', identityFiles: [] }, () => true);
    expect(target).toMatchObject({ address: '10.0.0.5', port: 22, user: 'root' });
    expect(target.key).toBeUndefined();
  });
});
