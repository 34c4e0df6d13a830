// Secrecy is a property of a value's type (value-types.ts): the loader finds the secrets of a
// checked document by walking its schema, so a setting added later with a secret type is masked
// without code that names it.
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ClusterFile } from '../../../src/cluster/schema.ts';
import { secretPaths } from '../../../src/inventory/validate.ts';
import { SharedKey } from '../../../src/inventory/value-types.ts';

describe('secretPaths', () => {
  it('finds strings whose type is secret: in objects, lists and mappings of names', () => {
    const schema = Type.Object({
      plain: Type.String(),
      key: SharedKey('a key'),
      list: Type.Array(Type.Object({ token: SharedKey('a token'), name: Type.String() })),
      perHost: Type.Record(Type.String(), SharedKey('a host key')),
    });
    const data = { plain: 'p', key: 'k1k1k1', list: [{ token: 't1t1t1', name: 'n' }, { name: 'm' }], perHost: { a: 'h1h1h1', b: 'h2h2h2' } };
    expect(secretPaths(schema, data)).toEqual([['key'], ['list', 0, 'token'], ['perHost', 'a'], ['perHost', 'b']]);
  });

  it("the cluster's secrets are exactly the settings declared secret", () => {
    const cluster = {
      name: 'web',
      manager: 'keepalived',
      directors: ['a'],
      virtual_services: [{ vip: '10.0.0.1', port: 80, realservers: [{ address: '10.0.0.2' }] }],
      heartbeat: { authkeys: { method: 'sha1', key: 'hb-secret' }, logging: { logfile: '/var/log/ha-log' } },
      keepalived: { virtual_router_id: 51, auth: { pass: 'vrrp-pw' }, router_id: 'not-secret' },
    };
    expect(secretPaths(ClusterFile, cluster)).toEqual([
      ['heartbeat', 'authkeys', 'key'],
      ['keepalived', 'auth', 'pass'],
    ]);
  });
});
