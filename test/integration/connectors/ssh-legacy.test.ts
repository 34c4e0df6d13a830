// Old servers: a real sshd (this machine's OpenSSH 9.2) restricted to what OpenSSH 4.3 of CentOS 5
// offers (SHA-1 key exchanges, RSA/DSA host keys, CBC/CTR ciphers, SHA-1/MD5 MACs, an RSA client
// key). Without the `legacy: centos5` preset the connection fails and says to set it; with it the
// connector contract runs, on 4.3's full offer and on its oldest corner (group1, ssh-dss, 3des-cbc,
// hmac-md5); then each legacy algorithm alone, read back from sshd's log as the one negotiated.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionTarget, Connector } from '../../../src/connectors/connector.ts';
import { SshConnector } from '../../../src/connectors/ssh.ts';
import { rootSkipReason, startSshd, type Sshd } from '../../support/sshd.ts';
import { connectionError, connectorContract } from './contract.ts';

/** What sshd_config lines make this machine's sshd offer only what OpenSSH 4.3 did. */
const CENTOS5_OFFER = {
  kex: 'KexAlgorithms diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1',
  hostKey: 'HostKeyAlgorithms ssh-rsa,ssh-dss',
  cipher: 'Ciphers aes128-cbc,3des-cbc,aes128-ctr',
  mac: 'MACs hmac-sha1,hmac-md5',
};
/**
 * OpenSSH 4.3 verifies client RSA signatures with SHA-1 (ssh-rsa). LogVerbose: the debug lines of
 * the key exchange say what was negotiated (LogLevel DEBUG would also send debug lines to the
 * sessions' stderr).
 */
const ALWAYS = ['PubkeyAcceptedAlgorithms +ssh-rsa', 'LogVerbose kex.c:*'];

/** A server with RSA and DSA host keys that lets in an RSA client key, as a CentOS 5 host. */
function startOldSshd(config: string[]): Promise<Sshd> {
  return startSshd({ hostKeyTypes: ['rsa', 'dsa'], clientKeyType: 'rsa', extraConfig: [...config, ...ALWAYS] });
}

interface Negotiated {
  kex?: string;
  hostKey?: string;
  cipher?: string;
  mac?: string;
}

/** What the last connection negotiated, from sshd's debug log. */
function negotiated(sshd: Sshd): Negotiated {
  const last = (pattern: RegExp) => [...sshd.log().matchAll(pattern)].at(-1);
  const transport = last(/kex: client->server cipher: (\S+) MAC: (\S+)/g);
  return { kex: last(/kex: algorithm: (\S+)/g)?.[1], hostKey: last(/kex: host key algorithm: (\S+)/g)?.[1], cipher: transport?.[1], mac: transport?.[2] };
}

describe.skipIf(rootSkipReason !== undefined)(`legacy algorithms against an sshd that offers only OpenSSH 4.3's${rootSkipReason ? ` (skipped: ${rootSkipReason})` : ''}`, () => {
  let dir: string;
  const open: Connector[] = [];
  const servers: Sshd[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provision-legacy-'));
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((connector) => connector.close()));
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function server(config: string[]): Promise<Sshd> {
    const started = await startOldSshd(config);
    servers.push(started);
    return started;
  }

  /** A connector to `sshd` that checks its host key strictly against `hostKeyLines` (default: all of its keys). */
  function connector(sshd: Sshd, legacy: 'centos5' | undefined, settings: Partial<ConnectionTarget['ssh']> = {}, hostKeyLines = sshd.hostKeyLines): SshConnector {
    const knownHosts = join(dir, `known_hosts_${sshd.port}_${hostKeyLines.length}`);
    writeFileSync(knownHosts, `${hostKeyLines.join('\n')}\n`);
    const target: ConnectionTarget = {
      name: 'el5-box',
      address: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      key: sshd.clientKeyPath,
      transport: 'ssh',
      ssh: { hostKeyChecking: 'strict', knownHosts, connectTimeout: 5, commandTimeout: 60, ...settings, ...(legacy ? { legacy } : {}) },
    };
    const c = new SshConnector(target, { env: {} });
    open.push(c);
    return c;
  }

  describe("OpenSSH 4.3's whole offer", () => {
    let sshd: Sshd;
    beforeAll(async () => {
      sshd = await server(Object.values(CENTOS5_OFFER));
    });

    it('without the preset: fails, naming what the server offers and the preset to set', async () => {
      const error = await connectionError(connector(sshd, undefined).connect());
      expect(error.kind).toBe('unreachable');
      expect(error.message).toBe(
        `SSH connection to el5-box (127.0.0.1:${sshd.port}) failed: no key exchange method in common with the server ` +
          '(it offers diffie-hellman-group-exchange-sha1, diffie-hellman-group14-sha1, diffie-hellman-group1-sha1)',
      );
      expect(error.hint).toContain('set `ssh: { legacy: centos5 }` for el5-box in the inventory');
    });

    it('with the preset: connects with those algorithms', async () => {
      const c = connector(sshd, 'centos5');
      expect((await c.run('echo in\n')).stdout).toBe('in\n');
      expect(negotiated(sshd)).toEqual({ kex: 'diffie-hellman-group14-sha1', hostKey: 'ssh-rsa', cipher: 'aes128-ctr', mac: 'hmac-sha1' });
    });

    describe('the connector contract', () => {
      connectorContract({ connector: (settings) => connector(sshd, 'centos5', settings), dir: () => dir });
    });
  });

  describe("its oldest corner: diffie-hellman-group1-sha1, ssh-dss, 3des-cbc, hmac-md5", () => {
    let sshd: Sshd;
    beforeAll(async () => {
      sshd = await server(['KexAlgorithms diffie-hellman-group1-sha1', 'HostKeyAlgorithms ssh-dss', 'Ciphers 3des-cbc', 'MACs hmac-md5']);
    });

    it('connects with exactly those', async () => {
      await connector(sshd, 'centos5').connect();
      expect(negotiated(sshd)).toEqual({ kex: 'diffie-hellman-group1-sha1', hostKey: 'ssh-dss', cipher: '3des-cbc', mac: 'hmac-md5' });
    });

    describe('the connector contract', () => {
      connectorContract({ connector: (settings) => connector(sshd, 'centos5', settings), dir: () => dir });
    });
  });

  // One legacy algorithm at a time, everything else at sshd's modern defaults. `inSsh2Defaults`:
  // ssh2 offers it without the preset too. `also`: a MAC is negotiated only with a cipher that is
  // not an AEAD (the GCM and ChaCha20 ciphers authenticate by themselves).
  const single: Array<{ field: keyof Negotiated; algorithm: string; line: string; inSsh2Defaults: boolean; words: string; also?: string }> = [
    { field: 'kex', algorithm: 'diffie-hellman-group1-sha1', line: 'KexAlgorithms', inSsh2Defaults: false, words: 'key exchange method' },
    { field: 'kex', algorithm: 'diffie-hellman-group14-sha1', line: 'KexAlgorithms', inSsh2Defaults: false, words: 'key exchange method' },
    { field: 'kex', algorithm: 'diffie-hellman-group-exchange-sha1', line: 'KexAlgorithms', inSsh2Defaults: false, words: 'key exchange method' },
    { field: 'hostKey', algorithm: 'ssh-dss', line: 'HostKeyAlgorithms', inSsh2Defaults: false, words: 'host key algorithm' },
    { field: 'hostKey', algorithm: 'ssh-rsa', line: 'HostKeyAlgorithms', inSsh2Defaults: true, words: 'host key algorithm' },
    { field: 'cipher', algorithm: 'aes128-cbc', line: 'Ciphers', inSsh2Defaults: false, words: 'cipher' },
    { field: 'cipher', algorithm: 'aes256-cbc', line: 'Ciphers', inSsh2Defaults: false, words: 'cipher' },
    { field: 'cipher', algorithm: '3des-cbc', line: 'Ciphers', inSsh2Defaults: false, words: 'cipher' },
    { field: 'cipher', algorithm: 'aes128-ctr', line: 'Ciphers', inSsh2Defaults: true, words: 'cipher' },
    { field: 'mac', algorithm: 'hmac-md5', line: 'MACs', inSsh2Defaults: false, words: 'MAC', also: 'Ciphers aes128-ctr' },
    { field: 'mac', algorithm: 'hmac-sha1', line: 'MACs', inSsh2Defaults: true, words: 'MAC', also: 'Ciphers aes128-ctr' },
  ];

  describe.each(single)('a server that offers only $algorithm ($line)', ({ field, algorithm, line, inSsh2Defaults, words, also }) => {
    let sshd: Sshd;
    beforeAll(async () => {
      sshd = await server([`${line} ${algorithm}`, ...(also ? [also] : [])]);
    });

    it('connects with it under the centos5 preset', async () => {
      expect((await connector(sshd, 'centos5').run('echo in\n')).stdout).toBe('in\n');
      expect(negotiated(sshd)[field]).toBe(algorithm);
    });

    it(inSsh2Defaults ? 'connects without the preset too' : 'without the preset, fails saying which preset enables it', async () => {
      // Only the RSA key on file: a DSA key in known_hosts would have ssh-dss offered anyway.
      const rsaOnly = sshd.hostKeyLines.filter((hostKeyLine) => hostKeyLine.includes(' ssh-rsa '));
      const c = connector(sshd, undefined, {}, rsaOnly);
      if (inSsh2Defaults) {
        await c.connect();
        expect(negotiated(sshd)[field]).toBe(algorithm);
        return;
      }
      const error = await connectionError(c.connect());
      expect(error.message).toContain(`no ${words} in common with the server (it offers ${algorithm})`);
      expect(error.hint).toContain('legacy: centos5');
    });
  });

});
