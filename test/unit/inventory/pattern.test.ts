import { beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import type { Inventory } from '../../../src/inventory/model.ts';
import { selectHosts } from '../../../src/inventory/pattern.ts';
import { fixture, userErrorOf } from './files.ts';

let inventory: Inventory;
beforeAll(async () => {
  inventory = await loadInventory(fixture('inventory/patterns.yaml'));
});

describe('selectHosts', () => {
  it.each([
    ['all', ['client1', 'lvs-master', 'lvs-backup', 'web1', 'web2']],
    ['*', ['client1', 'lvs-master', 'lvs-backup', 'web1', 'web2']],
    ['directors', ['lvs-master', 'lvs-backup']],
    ['webfarm', ['lvs-master', 'web1', 'web2']], // through its child group
    ['web2', ['web2']],
  ])('a name: %s', (pattern, expected) => {
    expect(selectHosts(inventory, pattern)).toEqual(expected);
  });

  it.each([
    ['web2:directors', ['lvs-master', 'lvs-backup', 'web2']],
    ['web2,client1', ['client1', 'web2']],
    [' web2 , directors ', ['lvs-master', 'lvs-backup', 'web2']],
  ])('union, in inventory order whatever the order of the terms: %s', (pattern, expected) => {
    expect(selectHosts(inventory, pattern)).toEqual(expected);
  });

  it('exclusion', () => {
    expect(selectHosts(inventory, 'directors:!lvs-backup')).toEqual(['lvs-master']);
    expect(selectHosts(inventory, 'all:!realservers')).toEqual(['client1', 'lvs-backup']);
  });

  it('intersection', () => {
    expect(selectHosts(inventory, 'realservers:&directors')).toEqual(['lvs-master']);
    expect(selectHosts(inventory, 'realservers:directors:&webfarm:&directors')).toEqual(['lvs-master']);
  });

  it('applies unions first, then intersections, then exclusions, as Ansible does', () => {
    // Left to right, '!lvs-master' would remove nothing and realservers would then add it back.
    expect(selectHosts(inventory, '!lvs-master:realservers')).toEqual(['web1', 'web2']);
    // Left to right, '&directors' would intersect an empty set.
    expect(selectHosts(inventory, '&directors:realservers')).toEqual(['lvs-master']);
  });

  it('a pattern of only exclusions or intersections starts from all hosts', () => {
    expect(selectHosts(inventory, '!directors')).toEqual(['client1', 'web1', 'web2']);
    expect(selectHosts(inventory, '&directors')).toEqual(['lvs-master', 'lvs-backup']);
  });

  it.each([
    ['web*', ['lvs-master', 'web1', 'web2']], // the group webfarm matches too, and has lvs-master
    ['lvs-*', ['lvs-master', 'lvs-backup']],
    ['web?', ['web1', 'web2']],
    ['web[2]', ['web2']],
    ['web[!2]', ['web1']],
    ['real*', ['lvs-master', 'web1', 'web2']], // a group's hosts
    ['*ent*', ['client1']],
    ['~^lvs-(master|backup)$', ['lvs-master', 'lvs-backup']],
    ['directors:!*-backup', ['lvs-master']],
  ])('wildcards and regular expressions, over host and group names: %s', (pattern, expected) => {
    expect(selectHosts(inventory, pattern)).toEqual(expected);
  });

  it('a name that matches nothing is an error with the closest name, even in an exclusion', () => {
    const error = userErrorOf(() => selectHosts(inventory, 'directors:!lvs-bakup', { file: 'site.yml', line: 3, column: 10 }));
    expect(error.message).toBe("host pattern 'directors:!lvs-bakup': no host or group is named 'lvs-bakup'; did you mean 'lvs-backup'?");
    expect(error.where).toEqual({ file: 'site.yml', line: 3, column: 10 });
    expect(error.hint).toBe('groups: all, directors, realservers, webfarm, empty; hosts: client1, lvs-master, lvs-backup, web1, web2');
  });

  it('a wildcard that matches nothing', () => {
    expect(userErrorOf(() => selectHosts(inventory, 'db*')).message).toBe("host pattern 'db*': 'db*' matches no host or group");
  });

  it('a pattern whose parts all match but leave no host', () => {
    const error = userErrorOf(() => selectHosts(inventory, 'directors:&webfarm:!lvs-master'));
    expect(error.message).toBe("host pattern 'directors:&webfarm:!lvs-master' selects no hosts");
    expect(userErrorOf(() => selectHosts(inventory, 'empty')).message).toBe("host pattern 'empty' selects no hosts");
  });

  it.each(['', 'directors::web1', 'directors:!', 'web1,'])('a pattern with an empty part: %j', (pattern) => {
    expect(userErrorOf(() => selectHosts(inventory, pattern)).message).toBe(`host pattern '${pattern}' has an empty part`);
  });

  it('an invalid regular expression', () => {
    expect(userErrorOf(() => selectHosts(inventory, '~web(')).message).toMatch(/^host pattern '~web\(': '~web\(' is not a valid regular expression/);
  });
});
