// The lab's package lists against what the roles install on the lab's Debian 12 hosts: a role
// that installs a package the offline mirror lacks would fail on the lab (its only apt source).
import { describe, expect, it } from 'vitest';
import { MIRROR_PACKAGES, ROOTFS_PACKAGES } from '../../../src/lab/packages.ts';
import { pickForPlatform } from '../../../src/operations/per-platform.ts';
import { BUILD_TOOLS, combinePackageLists, RECIPES } from '../../../roles/source-builds/recipes.ts';
import { factsFor } from '../../support/facts.ts';

describe('the lab mirror', () => {
  it('serves what the source-builds role installs to build ipvsadm and cluster-glue on a Debian 12 host', () => {
    const lists = combinePackageLists(BUILD_TOOLS, RECIPES.ipvsadm.buildDepends, RECIPES.cluster_glue.buildDepends);
    const wanted = pickForPlatform(lists, factsFor('debian12'), { noun: 'packages', option: 'names' });
    // tar and gzip are essential packages: every Debian system has them.
    const available = new Set<string>([...MIRROR_PACKAGES, ...ROOTFS_PACKAGES, 'tar', 'gzip']);
    expect(wanted.filter((name) => !available.has(name))).toEqual([]);
  });

  it('serves what the firewall role installs on a Debian 12 host', () => {
    for (const name of ['iptables', 'iptables-persistent']) expect(MIRROR_PACKAGES).toContain(name);
  });
});
