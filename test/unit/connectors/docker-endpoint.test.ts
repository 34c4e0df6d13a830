// Where the docker connector finds the Docker engine: the host's docker.host, else $DOCKER_HOST,
// else the default socket; what it cannot use is an error naming the setting to fix.
import { describe, expect, it } from 'vitest';
import { DEFAULT_DOCKER_HOST, dockerEndpoint } from '../../../src/connectors/docker.ts';
import { userErrorOf } from '../inventory/files.ts';

describe('dockerEndpoint', () => {
  it.each([
    ['unix:///run/lab/docker.sock', { socketPath: '/run/lab/docker.sock' }],
    ['unix:///tmp/with space/docker.sock', { socketPath: '/tmp/with space/docker.sock' }],
    ['tcp://127.0.0.1:2375', { host: '127.0.0.1', port: 2375, protocol: 'http' }],
    ['tcp://docker.internal:2375/', { host: 'docker.internal', port: 2375, protocol: 'http' }],
    ['tcp://[::1]:2375', { host: '::1', port: 2375, protocol: 'http' }],
  ])('%s', (host, options) => {
    expect(dockerEndpoint(host, {}, 'web1')).toEqual({ options, label: host });
  });

  it('prefers the host setting to $DOCKER_HOST, and $DOCKER_HOST to the default socket', () => {
    const env = { DOCKER_HOST: 'unix:///from/env.sock' };
    expect(dockerEndpoint('unix:///from/setting.sock', env, 'web1').label).toBe('unix:///from/setting.sock');
    expect(dockerEndpoint(undefined, env, 'web1').label).toBe('unix:///from/env.sock');
    expect(dockerEndpoint(undefined, { DOCKER_HOST: '' }, 'web1')).toEqual({ options: { socketPath: '/var/run/docker.sock' }, label: DEFAULT_DOCKER_HOST });
    expect(dockerEndpoint(undefined, {}, 'web1').label).toBe('unix:///var/run/docker.sock');
  });

  it.each([
    ['ssh://admin@box', undefined, 'docker.host of web1 is "ssh://admin@box"'],
    ['tcp://127.0.0.1', undefined, 'docker.host of web1 is "tcp://127.0.0.1"'],
    ['tcp://127.0.0.1:99999', undefined, 'docker.host of web1 is "tcp://127.0.0.1:99999"'],
    ['unix://', undefined, 'docker.host of web1 is "unix://"'],
    [undefined, 'npipe:////./pipe/docker_engine', '$DOCKER_HOST is "npipe:////./pipe/docker_engine"'],
  ])('refuses %s / $DOCKER_HOST=%s', (setting, fromEnv, message) => {
    const error = userErrorOf(() => dockerEndpoint(setting, fromEnv === undefined ? {} : { DOCKER_HOST: fromEnv }, 'web1'));
    expect(error.message).toBe(`${message}, which is not a Docker engine address provision can use`);
    expect(error.hint).toBe('give unix:///path/to/docker.sock or tcp://HOST:PORT');
    expect(error.where.host).toBe('web1');
  });
});
