// Which SSH algorithms the ssh connector offers, and what to tell the user when a server accepts
// none of them.
//
// ssh2's defaults are modern: an old OpenSSH (4.3 on CentOS/RHEL 5) has no key exchange method in
// common with them. A per-host preset (inventory `ssh: { legacy: centos5 }`) APPENDS what that
// server offers, so the preset is harmless on a host that has been upgraded meanwhile: a server
// that knows modern algorithms still negotiates them.
import type { Algorithms, CipherAlgorithm, KexAlgorithm, MacAlgorithm, ServerHostKeyAlgorithm } from 'ssh2';

export interface AlgorithmSet {
  kex: readonly KexAlgorithm[];
  serverHostKey: readonly ServerHostKeyAlgorithm[];
  cipher: readonly CipherAlgorithm[];
  hmac: readonly MacAlgorithm[];
}

/**
 * The algorithms each preset enables, best first (appended after ssh2's defaults, which already
 * hold some of them: listing them anyway keeps the preset complete if ssh2's defaults change).
 */
export const LEGACY_ALGORITHMS = {
  // OpenSSH 4.3p2 (CentOS/RHEL 5): SHA-1 key exchanges, RSA/DSA host keys with SHA-1 signatures,
  // CBC or CTR ciphers, SHA-1/MD5 MACs. Client keys must be RSA or DSA (4.3 knows no ed25519/ecdsa).
  // group14 (a fixed 2048-bit group) before group exchange, where the client has to check the
  // prime the server picks: seconds of CPU per connection in Node.
  centos5: {
    kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group-exchange-sha1', 'diffie-hellman-group1-sha1'],
    serverHostKey: ['ssh-rsa', 'ssh-dss'],
    cipher: ['aes128-ctr', 'aes256-cbc', 'aes192-cbc', 'aes128-cbc', '3des-cbc'],
    hmac: ['hmac-sha1', 'hmac-md5'],
  },
} as const satisfies Record<string, AlgorithmSet>;

export type LegacyProfile = keyof typeof LEGACY_ALGORITHMS;

/** The ssh2 host key algorithms for each known_hosts key type (RSA keys sign with SHA-2 too). */
const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

/**
 * ConnectConfig.algorithms: ssh2's defaults, with the host key algorithms of the key types on file
 * for the host first (so the server proves the key we can check), plus the legacy preset's.
 */
export function connectAlgorithms(knownKeyTypes: string[], legacy: LegacyProfile | undefined): Algorithms {
  const preferred = knownKeyTypes.flatMap((type) => HOST_KEY_ALGORITHMS[type] ?? []);
  const extra: AlgorithmSet | undefined = legacy === undefined ? undefined : LEGACY_ALGORITHMS[legacy];
  // ssh2 applies these in order; `prepend` skips algorithms already in the list, hence `remove` first.
  const algorithms: Algorithms = {
    serverHostKey: { remove: preferred, prepend: preferred, append: [...(extra?.serverHostKey ?? [])] },
  };
  if (extra) {
    // `append` skips algorithms already in ssh2's list.
    algorithms.kex = appended(extra.kex);
    algorithms.cipher = appended(extra.cipher);
    algorithms.hmac = appended(extra.hmac);
  }
  return algorithms;
}

function appended<T>(list: readonly T[]): { append: T[]; prepend: T[]; remove: T[] } {
  return { append: [...list], prepend: [], remove: [] };
}

/** What the negotiation could not agree on, from ssh2's handshake error. */
type Category = keyof AlgorithmSet | 'compression';

const CATEGORY_OF_ERROR: Array<{ pattern: RegExp; category: Category }> = [
  { pattern: /no matching key exchange/i, category: 'kex' },
  { pattern: /no matching host key/i, category: 'serverHostKey' },
  { pattern: /no matching (C->S|S->C) cipher/i, category: 'cipher' },
  { pattern: /no matching (C->S|S->C) MAC/i, category: 'hmac' },
  { pattern: /no matching (C->S|S->C) compression/i, category: 'compression' },
];

const CATEGORY_WORDS: Record<Category, string> = {
  kex: 'key exchange method',
  serverHostKey: 'host key algorithm',
  cipher: 'cipher',
  hmac: 'MAC',
  compression: 'compression method',
};

// ssh2's debug lines that list what the server offers, per category.
const SERVER_LIST_LINES: Array<{ prefix: string; category: Category }> = [
  { prefix: 'Handshake: (remote) KEX method: ', category: 'kex' },
  { prefix: 'Handshake: (remote) Host key format: ', category: 'serverHostKey' },
  { prefix: 'Handshake: (remote) C->S cipher: ', category: 'cipher' },
  { prefix: 'Handshake: (remote) C->S MAC: ', category: 'hmac' },
  { prefix: 'Handshake: (remote) C->S compression: ', category: 'compression' },
];

/** Markers in the key exchange list that are not algorithms (RFC 8308 ext-info, OpenSSH's strict KEX). */
const PSEUDO_ALGORITHM = /^(ext-info-[cs]|kex-strict-[cs]-v00@openssh\.com)$/;

/**
 * Collects the server's algorithm lists from ssh2's debug output during the handshake, so a
 * failed negotiation can say what the server offers.
 */
export class ServerAlgorithms {
  private readonly lists = new Map<Category, string[]>();
  private done = false;

  /** for ConnectConfig.debug */
  readonly debug = (line: string): void => {
    if (this.done) return;
    for (const { prefix, category } of SERVER_LIST_LINES) {
      if (line.startsWith(prefix)) this.lists.set(category, line.slice(prefix.length).split(',').filter((name) => name !== '' && !PSEUDO_ALGORITHM.test(name)));
    }
  };

  /** stops collecting (the handshake is over; ssh2 logs every packet from here on) */
  stop(): void {
    this.done = true;
  }

  /**
   * The message and hint for a handshake error that is a failed negotiation; undefined for any
   * other error.
   */
  explain(error: Error, host: string, legacy: LegacyProfile | undefined): { message: string; hint: string } | undefined {
    const category = CATEGORY_OF_ERROR.find(({ pattern }) => pattern.test(error.message))?.category;
    if (category === undefined) return undefined;
    const offered = this.lists.get(category);
    const message = `no ${CATEGORY_WORDS[category]} in common with the server${offered ? ` (it offers ${offered.join(', ')})` : ''}`;
    const presets = category === 'compression' ? [] : presetsEnabling(category, offered);
    const usable = presets.filter((name) => name !== legacy);
    if (legacy === undefined && usable.length > 0) {
      return {
        message,
        hint: `an old sshd (such as OpenSSH 4.3 of CentOS 5) offers only algorithms that are off by default: set \`ssh: { legacy: ${usable[0]} }\` for ${host} in the inventory`,
      };
    }
    return {
      message,
      hint: `${legacy ? `the ${legacy} preset does not cover what this server offers; ` : ''}check KexAlgorithms, HostKeyAlgorithms, Ciphers and MACs in the sshd_config of ${host}`,
    };
  }
}

/** The presets that would enable one of `offered` (all presets when the server's list is unknown). */
function presetsEnabling(category: keyof AlgorithmSet, offered: string[] | undefined): LegacyProfile[] {
  return (Object.keys(LEGACY_ALGORITHMS) as LegacyProfile[]).filter((name) => {
    const enabled: readonly string[] = LEGACY_ALGORITHMS[name][category];
    return offered === undefined || offered.some((algorithm) => enabled.includes(algorithm));
  });
}
