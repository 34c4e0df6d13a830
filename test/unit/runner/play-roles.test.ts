// The one decision a run and `provision lint PLAYBOOK` share: a cluster role needs the inventory's
// cluster: section (missingClusterProblem), over the roles the run's loader loads (loadPlayRoles).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { loadPlaybook } from '../../../src/playbook/load.ts';
import type { Play } from '../../../src/playbook/model.ts';
import { loadPlayRoles, missingClusterProblem } from '../../../src/runner/play-roles.ts';
import { repoRoot } from '../../support/project.ts';

const play = (line: number, ...roles: string[]): Pick<Play, 'roles'> => ({
  roles: roles.map((name, i) => ({ name, vars: {}, varOrigin: {}, tags: [], source: { file: 'site.yml', line: line + i, column: 7 } })),
});
const roles = new Map([
  ['base', { needsCluster: undefined }],
  ['client', { needsCluster: false }],
  ['director', { needsCluster: true }],
  ['heartbeat', { needsCluster: true }],
]);
const withoutCluster = { cluster: undefined, file: 'hosts.yaml' };

describe('missingClusterProblem', () => {
  it('an inventory without a cluster: the first cluster role, at its playbook line, with what to do', () => {
    const problem = missingClusterProblem(withoutCluster, { plays: [play(3, 'base'), play(8, 'client', 'director', 'heartbeat')] as Play[] }, roles);
    expect(problem).toBeInstanceOf(UserError);
    expect(problem?.format()).toBe(
      'site.yml:9:7: the director role configures a cluster, but the inventory hosts.yaml has no cluster: section\n' +
        '  describe the cluster under cluster: in the inventory (examples in inventory/*.yaml), or leave the cluster roles out of the playbook; no host was contacted',
    );
  });

  it('no problem when no role needs the cluster, or when the inventory describes one', () => {
    expect(missingClusterProblem(withoutCluster, { plays: [play(3, 'base', 'client')] as Play[] }, roles)).toBeUndefined();
    expect(missingClusterProblem(withoutCluster, { plays: [] }, roles)).toBeUndefined();
    const cluster = {} as NonNullable<Parameters<typeof missingClusterProblem>[0]['cluster']>;
    expect(missingClusterProblem({ cluster, file: 'lab.yaml' }, { plays: [play(3, 'director')] as Play[] }, roles)).toBeUndefined();
  });
});

describe('loadPlayRoles', () => {
  it("site.yml: every role once, by name; the first cluster role is source-builds (base needs none)", async () => {
    const playbook = await loadPlaybook(path.join(repoRoot, 'playbooks', 'site.yml'));
    const loaded = await loadPlayRoles(playbook);
    expect([...loaded.keys()]).toEqual(['base', 'source-builds', 'realserver', 'firewall', 'director', 'ldirectord', 'heartbeat', 'keepalived', 'piranha', 'client']);
    expect(loaded.get('base')?.needsCluster).toBeFalsy();
    expect(missingClusterProblem(withoutCluster, playbook, loaded)?.message).toBe('the source-builds role configures a cluster, but the inventory hosts.yaml has no cluster: section');
  });
});
