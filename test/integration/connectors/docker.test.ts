// The docker connector against a real dockerd (test/support/docker.ts): the connector contract
// (contract.ts) in a container addressed by name and by id, then what only docker has: the
// engine address, containers that are missing or stopped, users, become, archives.
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector, ConnectorOptions } from '../../../src/connectors/connector.ts';
import { DockerConnector } from '../../../src/connectors/docker.ts';
import { createConnector } from '../../../src/connectors/index.ts';
import { containerProcessIsDead, startTestDocker, type TestContainer, type TestDocker } from '../../support/docker.ts';
import { rootSkipReason } from '../../support/sshd.ts';
import { connectionError, connectorContract } from './contract.ts';

describe.skipIf(rootSkipReason !== undefined)(`docker connector against a real dockerd${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let engine: TestDocker;
  let container: TestContainer;
  let dir: string;
  const open: Connector[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provision-docker-target-'));
    await chmod(dir, 0o777); // the container's nobody writes here too
    engine = await startTestDocker();
    container = await engine.run('provision-connector-test', { binds: [dir] });
  }, 300_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await engine?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  function target(overrides: Partial<ConnectionTarget> = {}, ssh: Partial<ConnectionTarget['ssh']> = {}): ConnectionTarget {
    return {
      name: 'web1',
      address: container.name,
      port: 22,
      user: 'root',
      transport: 'docker',
      docker: { host: engine.host },
      ...overrides,
      ssh: { hostKeyChecking: 'strict', connectTimeout: 5, commandTimeout: 60, ...ssh },
    };
  }

  function connector(t: ConnectionTarget = target(), options: ConnectorOptions = {}): Connector {
    const c = createConnector(t, { env: {}, ...options });
    open.push(c);
    return c;
  }

  it('is what createConnector makes for transport docker', () => {
    expect(connector()).toBeInstanceOf(DockerConnector);
  });

  describe('a container addressed by name', () => {
    connectorContract({ connector: (settings) => connector(target({}, settings)), dir: () => dir, isDead: (pid) => containerProcessIsDead(container, pid) });
  });

  describe('a container addressed by id', () => {
    connectorContract({ connector: (settings) => connector(target({ address: container.id.slice(0, 12) }, settings)), dir: () => dir, isDead: (pid) => containerProcessIsDead(container, pid) });
  });

  it('runs in the container, not here', async () => {
    const hostname = (await connector().run('cat /proc/sys/kernel/hostname\n')).stdout.trim();
    expect(container.id.startsWith(hostname)).toBe(true);
    // pid 1 is docker-init: the container's own pid namespace
    expect((await connector().run('cat /proc/1/comm\n')).stdout).toMatch(/^(docker-init|tini)\n$/);
  });

  it('finds the engine through DOCKER_HOST when the host has no docker.host', async () => {
    const { docker: _docker, ...withoutEngine } = target();
    expect((await connector(withoutEngine, { env: { DOCKER_HOST: engine.host } }).run('echo via env\n')).stdout).toBe('via env\n');
    // Neither: the default socket, which is not this engine's (here: none at all, or another engine without this container).
    const error = await connectionError(connector(withoutEngine).run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('unix:///var/run/docker.sock');
  });

  it('reports an engine that is not there, with what to do', async () => {
    const error = await connectionError(connector(target({ docker: { host: `unix://${join(dir, 'no-such.sock')}` } })).run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(`cannot look up container provision-connector-test of web1: cannot reach the Docker engine at unix://${join(dir, 'no-such.sock')}: no such socket`);
    expect(error.hint).toContain('set docker.host of web1 or DOCKER_HOST');
  });

  it('reports a container that does not exist', async () => {
    const error = await connectionError(connector(target({ address: 'provision-no-such-container' })).run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe(`the Docker engine at ${engine.host} has no container provision-no-such-container (the address of web1)`);
    expect(error.hint).toContain('docker ps -a');
  });

  it('reports a stopped container and how to start it', async () => {
    const stopped = await engine.run('provision-stopped-test');
    await engine.cli(['stop', '--time', '0', stopped.name]);
    const error = await connectionError(connector(target({ address: stopped.name })).run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toBe('container provision-stopped-test (web1) is not running: it is exited');
    expect(error.hint).toBe('start it: docker start provision-stopped-test');
  });

  it('reports a container that stops after it was found', async () => {
    const stopping = await engine.run('provision-stopping-test');
    const c = connector(target({ address: stopping.name }));
    expect((await c.run('echo up\n')).stdout).toBe('up\n');
    await engine.cli(['stop', '--time', '0', stopping.name]);
    const error = await connectionError(c.run('true\n'));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/^cannot start a command in container provision-stopping-test \(web1\): .*is not running/);
    expect(error.hint).toBe('start it (docker start provision-stopping-test), then run again');
  });

  it('refuses an engine address it cannot use', () => {
    expect(() => connector(target({ docker: { host: 'ssh://admin@box' } }))).toThrow('docker.host of web1 is "ssh://admin@box"');
    expect(() => connector(target({ docker: {} }), { env: { DOCKER_HOST: 'fd://' } })).toThrow('$DOCKER_HOST is "fd://"');
  });

  describe('users', () => {
    it('runs as the host user, and as root with become (no sudo needed)', async () => {
      expect((await connector(target({ user: 'nobody' })).run('id -u\n')).stdout).toBe('65534\n');
      expect((await connector(target({ user: 'nobody', become: { sudo: true } })).run('id -u\n')).stdout).toBe('0\n');
    });

    it('writes files as root through archives: owned by root, exactly the given mode', async () => {
      const path = join(dir, 'root-file');
      await connector().put(path, 'as root\n', 0o600);
      const info = await stat(path);
      expect([info.uid, info.gid, info.mode & 0o7777]).toEqual([0, 0, 0o600]);
      expect(await readFile(path, 'utf8')).toBe('as root\n');
    });

    it("writes and reads files as another user with that user's permissions", async () => {
      const c = connector(target({ user: 'nobody' }));
      const path = join(dir, 'nobody-file');
      await c.put(path, 'as nobody\n', 0o640);
      expect((await stat(path)).uid).toBe(65534);
      expect((await c.get(path)).toString()).toBe('as nobody\n');
      // A root-only file: the archive API could read it, the user cannot.
      await connector().put(join(dir, 'secret'), 'x', 0o600);
      await expect(c.get(join(dir, 'secret'))).rejects.toThrow(`cannot read ${join(dir, 'secret')}`);
    });

    it('reports a user the container does not know', async () => {
      const error = await connectionError(connector(target({ user: 'nosuchuser' })).run('true\n'));
      expect(error.kind).toBe('auth');
      expect(error.message).toContain('unable to find user nosuchuser');
    });
  });

  describe('archives', () => {
    it('follows symbolic links on get, as cat does', async () => {
      const c = connector();
      await c.run(`cd ${dir} && echo target > real && ln -sf real link1 && ln -sf ${dir}/link1 link2 && mkdir -p sub && ln -sf ../real sub/up\n`);
      for (const name of ['link2', 'sub/up']) expect((await c.get(join(dir, name))).toString()).toBe('target\n');
      await c.run(`cd ${dir} && ln -sf loop-b loop-a && ln -sf loop-a loop-b\n`);
      await expect(c.get(join(dir, 'loop-a'))).rejects.toThrow('too many levels of symbolic links');
    });

    it('refuses to read a directory', async () => {
      await expect(connector().get(dir)).rejects.toThrow(`cannot read ${dir}: it is a directory`);
    });

    it('puts a file with a long, non-ASCII name', async () => {
      const name = `${'ä'.repeat(60)}.conf`;
      await connector().put(join(dir, name), 'long\n');
      expect(await readFile(join(dir, name), 'utf8')).toBe('long\n');
    });
  });
});
