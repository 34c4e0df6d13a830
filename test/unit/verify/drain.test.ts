// drain/undrain's pure part: the entries of a real server, the ipvsadm commands (run here with a
// fake ipvsadm that records them), and the connection counts read back from `ipvsadm -Ln`.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/cluster/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { activeConnections, parseIpvsList, realServerEntries, setWeightScript } from '../../../src/verify/drain.ts';
import { exampleSecrets } from '../../support/example-clusters.ts';
import { repoRoot } from '../../support/project.ts';

const LISTING = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.213.2.254:80 rr
  -> 10.213.2.252:80              Route   1      3          10
  -> 10.213.2.253:80              Route   0      2          7
`;

describe('drain: the pure part', () => {
  let lab: Cluster;
  beforeAll(async () => {
    lab = (await loadInventory(path.join(repoRoot, 'inventory', 'lab.yaml'), { env: exampleSecrets })).cluster!;
  });

  it('finds a real server by inventory host, address or name', () => {
    for (const target of ['web2', '10.213.2.253']) {
      expect(realServerEntries(lab, target).map((e) => [e.selector.join(' '), e.real, e.weight])).toEqual([['-t 10.213.2.254:80', '10.213.2.253:80', 1]]);
    }
    expect(realServerEntries(lab, 'lvs-master')).toEqual([]);
  });

  it('reads the weight and open connections of every real server from ipvsadm -Ln', () => {
    const list = parseIpvsList(LISTING);
    expect(list.services.get('TCP 10.213.2.254:80')?.get('10.213.2.253:80')).toEqual({ method: 'Route', weight: 0, active: 2, inactive: 7 });
    expect(activeConnections(list, realServerEntries(lab, 'web2'))).toBe(2);
    expect(activeConnections(parseIpvsList(''), realServerEntries(lab, 'web2'))).toBe(0);
  });

  it('sets the weight only where the table has the entry, keeping the forwarding method', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-drain-'));
    try {
      // A stand-in ipvsadm: lists LISTING for -L, records every -e.
      const log = path.join(dir, 'log');
      writeFileSync(path.join(dir, 'ipvsadm'), `#!/bin/sh\ncase "$1" in -L) cat ${path.join(dir, 'listing')} ;; *) echo "$*" >> ${log} ;; esac\n`);
      chmodSync(path.join(dir, 'ipvsadm'), 0o755);
      const run = (listing: string, weight: number) => {
        writeFileSync(path.join(dir, 'listing'), listing);
        rmSync(log, { force: true });
        const result = spawnSync('/bin/sh', ['-c', setWeightScript(realServerEntries(lab, 'web2'), () => weight)], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
        return { stdout: result.stdout, calls: readFileSync(log, { encoding: 'utf8', flag: 'a+' }) };
      };
      expect(run(LISTING, 0)).toEqual({ stdout: 'set -t 10.213.2.254:80 10.213.2.253:80\n', calls: '-e -t 10.213.2.254:80 -r 10.213.2.253:80 -g -w 0\n' });
      // A standby director's empty table: nothing to set.
      expect(run('', 1)).toEqual({ stdout: '', calls: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
