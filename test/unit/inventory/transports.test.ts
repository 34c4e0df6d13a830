// The settings of the docker and vagrant transports in the inventory: resolved with their
// defaults, checked with the same file:line:column errors as every other setting.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { problems, tempTree, userError } from './files.ts';

const writeTree = tempTree();

async function load(inventory: string) {
  const dir = await writeTree({ 'inventory/hosts.yaml': inventory });
  return { inventory: await loadInventory(path.join(dir, 'inventory/hosts.yaml')), dir };
}

async function loadError(inventory: string) {
  const dir = await writeTree({ 'hosts.yaml': inventory });
  return userError(loadInventory(path.join(dir, 'hosts.yaml')));
}

describe('inventory: docker hosts', () => {
  it('keep the engine address; the address is the container', async () => {
    const { inventory } = await load(
      ['all:', '  hosts:', '    web1: { transport: docker, address: lab-web1, docker: { host: "unix:///run/lab/docker.sock" } }', '    web2: { transport: docker }', ''].join('\n'),
    );
    expect(inventory.hosts.get('web1')).toMatchObject({ transport: 'docker', address: 'lab-web1', docker: { host: 'unix:///run/lab/docker.sock' } });
    // No docker block: the connector falls back to $DOCKER_HOST, then the default socket.
    expect(inventory.hosts.get('web2')).toMatchObject({ transport: 'docker', address: 'web2' });
    expect(inventory.hosts.get('web2')?.docker).toBeUndefined();
    expect(inventory.hosts.get('web2')?.vagrant).toBeUndefined();
  });

  it.each(['tcp://127.0.0.1:2375', 'tcp://docker.example:2375/'])('accept %s', async (host) => {
    const { inventory } = await load(['all:', '  hosts:', `    web1: { transport: docker, docker: { host: "${host}" } }`, ''].join('\n'));
    expect(inventory.hosts.get('web1')?.docker).toEqual({ host });
  });

  it.each([
    ['/var/run/docker.sock', 'a path without unix://'],
    ['unix://', 'no path'],
    ['tcp://127.0.0.1', 'no port'],
    ['ssh://admin@box', 'ssh is not supported'],
  ])('refuse %s (%s)', async (host) => {
    const error = await loadError(['all:', '  hosts:', `    web1: { transport: docker, docker: { host: "${host}" } }`, ''].join('\n'));
    expect(problems(error)).toEqual([
      `3:48 all.hosts.web1.docker.host: expected the address of the Docker engine: unix:///path/to/docker.sock or tcp://HOST:PORT, got "${host}"`,
    ]);
  });

  it('an unknown docker setting, with a suggestion', async () => {
    const error = await loadError(['all:', '  hosts:', '    web1: { transport: docker, docker: { hots: "unix:///x" } }', ''].join('\n'));
    expect(problems(error)).toEqual(["3:42 all.hosts.web1.docker.hots: unknown key 'hots' in the docker settings of host web1; did you mean 'host'?"]);
  });
});

describe('inventory: vagrant hosts', () => {
  it('default to the machine named like the host, in a Vagrantfile beside the inventory', async () => {
    const { inventory, dir } = await load(
      [
        'all:',
        '  hosts:',
        '    lvs-master: { transport: vagrant }',
        '    web1: { transport: vagrant, vagrant: { dir: .., machine: realserver1 } }',
        '    web2: { transport: vagrant, vagrant: { dir: /srv/lab } }',
        '',
      ].join('\n'),
    );
    expect(inventory.hosts.get('lvs-master')?.vagrant).toEqual({ dir: path.join(dir, 'inventory'), machine: 'lvs-master' });
    // dir is relative to the inventory file, like key paths.
    expect(inventory.hosts.get('web1')?.vagrant).toEqual({ dir, machine: 'realserver1' });
    expect(inventory.hosts.get('web2')?.vagrant).toEqual({ dir: '/srv/lab', machine: 'web2' });
  });

  it('an empty machine name', async () => {
    const error = await loadError(['all:', '  hosts:', '    web1: { transport: vagrant, vagrant: { machine: "" } }', ''].join('\n'));
    expect(problems(error)).toEqual(['3:53 all.hosts.web1.vagrant.machine: expected the name of the machine in the Vagrantfile: letters, digits, _ . -, got ""']);
  });
});

describe('inventory: transport settings on a host of another transport', () => {
  it('are an error at the settings, not silently ignored', async () => {
    const error = await loadError(
      ['all:', '  hosts:', '    web1: { docker: { host: "unix:///x" } }', '    web2:', '      transport: docker', '      vagrant: { machine: web2 }', ''].join('\n'),
    );
    expect(problems(error)).toEqual([
      '3:13 all.hosts.web1.docker: host web1 has docker settings, but its transport is ssh',
      '6:7 all.hosts.web2.vagrant: host web2 has vagrant settings, but its transport is docker',
    ]);
    expect(error.format()).toContain('set transport: docker for web1, or remove its docker settings');
  });

  it('count wherever the host is listed: transport in one group, settings in another', async () => {
    const { inventory } = await load(
      ['all:', '  children:', '    a:', '      hosts:', '        web1: { transport: docker }', '    b:', '      hosts:', '        web1: { docker: { host: "unix:///x" } }', ''].join('\n'),
    );
    expect(inventory.hosts.get('web1')).toMatchObject({ transport: 'docker', docker: { host: 'unix:///x' } });
  });
});
