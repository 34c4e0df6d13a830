// The algorithms the ssh connector offers and the explanation of a failed negotiation. That the
// algorithms really connect to a server offering only them is shown against a real sshd
// (test/integration/connectors/ssh-legacy.test.ts).
import { describe, expect, it } from 'vitest';
import { connectAlgorithms, LEGACY_ALGORITHMS, ServerAlgorithms } from '../../../src/connectors/ssh-algorithms.ts';
import { LEGACY_PROFILES } from '../../../src/inventory/schema.ts';

describe('legacy presets', () => {
  it('are the ones the inventory accepts', () => {
    expect(Object.keys(LEGACY_ALGORITHMS).sort()).toEqual([...LEGACY_PROFILES].sort());
  });

  it('centos5 covers what OpenSSH 4.3 offers that ssh2 can speak', () => {
    expect(LEGACY_ALGORITHMS.centos5).toEqual({
      kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'],
      serverHostKey: ['ssh-rsa', 'ssh-dss'],
      cipher: ['aes128-ctr', 'aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc'],
      hmac: ['hmac-sha1', 'hmac-md5'],
    });
  });
});

describe('connectAlgorithms', () => {
  it("keeps ssh2's defaults, with the host key algorithms of the keys on file first", () => {
    expect(connectAlgorithms(['ssh-rsa', 'ssh-ed25519'], undefined)).toEqual({
      serverHostKey: {
        remove: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519'],
        prepend: ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519'],
        append: [],
      },
    });
  });

  it("appends a preset's algorithms after ssh2's defaults", () => {
    const preset = LEGACY_ALGORITHMS.centos5;
    expect(connectAlgorithms([], 'centos5')).toEqual({
      serverHostKey: { remove: [], prepend: [], append: [...preset.serverHostKey] },
      kex: { append: [...preset.kex], prepend: [], remove: [] },
      cipher: { append: [...preset.cipher], prepend: [], remove: [] },
      hmac: { append: [...preset.hmac], prepend: [], remove: [] },
    });
  });
});

describe('ServerAlgorithms.explain', () => {
  const handshake = (message: string) => Object.assign(new Error(message), { level: 'handshake' });

  function seen(lines: string[]): ServerAlgorithms {
    const server = new ServerAlgorithms();
    for (const line of lines) server.debug(line);
    return server;
  }

  it('names what the server offers (without the ext-info and strict-kex markers) and the preset that enables it', () => {
    const server = seen(['Handshake: (remote) KEX method: diffie-hellman-group1-sha1,ext-info-s,kex-strict-s-v00@openssh.com', 'Outbound: something else']);
    expect(server.explain(handshake('Handshake failed: no matching key exchange algorithm'), 'old-box', undefined)).toEqual({
      message: 'no key exchange method in common with the server (it offers diffie-hellman-group1-sha1)',
      hint: 'an old sshd (such as OpenSSH 4.3 of CentOS 5) offers only algorithms that are off by default: set `ssh: { legacy: centos5 }` for old-box in the inventory',
    });
  });

  it.each([
    ['Handshake failed: no matching host key format', 'Handshake: (remote) Host key format: ssh-dss', 'host key algorithm'],
    ['Handshake failed: no matching C->S cipher', 'Handshake: (remote) C->S cipher: 3des-cbc', 'cipher'],
    ['Handshake failed: no matching S->C MAC', 'Handshake: (remote) C->S MAC: hmac-md5', 'MAC'],
  ])('%s', (error, line, words) => {
    const explained = seen([line]).explain(handshake(error), 'old-box', undefined);
    expect(explained?.message).toBe(`no ${words} in common with the server (it offers ${line.split(': ').at(-1)})`);
    expect(explained?.hint).toContain('legacy: centos5');
  });

  it('does not suggest a preset that would not help', () => {
    const server = seen(['Handshake: (remote) C->S cipher: blowfish-cbc']);
    const explained = server.explain(handshake('Handshake failed: no matching C->S cipher'), 'odd-box', undefined);
    expect(explained?.hint).toBe('check KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs in the sshd_config of odd-box');
  });

  it('says when the preset in use does not cover the server', () => {
    const server = seen(['Handshake: (remote) KEX method: gss-gex-sha1-something']);
    const explained = server.explain(handshake('Handshake failed: no matching key exchange algorithm'), 'odd-box', 'centos5');
    expect(explained?.hint).toBe('the centos5 preset does not cover what this server offers; check KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs in the sshd_config of odd-box');
  });

  it('stops listening once the handshake is over, and leaves other errors alone', () => {
    const server = new ServerAlgorithms();
    server.stop();
    server.debug('Handshake: (remote) KEX method: diffie-hellman-group1-sha1');
    expect(server.explain(handshake('Handshake failed: no matching key exchange algorithm'), 'h', undefined)?.message).toBe('no key exchange method in common with the server');
    expect(server.explain(handshake('Handshake failed: signature verification failed'), 'h', undefined)).toBeUndefined();
  });
});
