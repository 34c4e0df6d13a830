import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateVars } from '../../../src/inventory/interpolate.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { tempTree, userError, userErrorOf } from './files.ts';

const writeTree = tempTree();

describe('interpolateVars', () => {
  it('replaces {{ name }} inside strings, also in nested lists and mappings', () => {
    const vars = { vip: '192.168.2.254', port: 80, ldirectord: { virtual: '{{ vip }}:{{port}}', reals: ['{{ vip }}', 'x'] } };
    expect(interpolateVars(vars)).toEqual({ vip: '192.168.2.254', port: 80, ldirectord: { virtual: '192.168.2.254:80', reals: ['192.168.2.254', 'x'] } });
  });

  it('follows references recursively, in any order of definition', () => {
    const vars = { url: 'http://{{ endpoint }}/', endpoint: '{{ host }}:{{ port }}', host: '{{ vip }}', vip: '10.0.0.1', port: 8080 };
    expect(interpolateVars(vars).url).toBe('http://10.0.0.1:8080/');
  });

  it('{{ a.b }} reads keys of mappings and indexes of lists', () => {
    const vars = { cluster: { vip: '10.0.0.1', nodes: ['lvs-master', 'lvs-backup'] }, primary: '{{ cluster.nodes.0 }}', vip: '{{ cluster.vip }}' };
    expect(interpolateVars(vars)).toMatchObject({ primary: 'lvs-master', vip: '10.0.0.1' });
  });

  it('a string that is exactly one reference keeps the type of the value', () => {
    const vars = { nodes: ['a', 'b'], port: 80, copy: '{{ nodes }}', port_copy: '{{ port }}', text: 'port {{ port }}' };
    expect(interpolateVars(vars)).toMatchObject({ copy: ['a', 'b'], port_copy: 80, text: 'port 80' });
  });

  it('leaves strings listed as literal (secrets) alone', () => {
    const vars = { password: 'a{{b}}c', other: '{{ password }}' };
    expect(interpolateVars(vars, {}, { literal: new Set(['a{{b}}c']) })).toEqual({ password: 'a{{b}}c', other: 'a{{b}}c' });
  });

  it('does not change its input', () => {
    const vars = { a: '{{ b }}', b: 'x', nested: { c: '{{ b }}' } };
    const copy = structuredClone(vars);
    interpolateVars(vars);
    expect(vars).toEqual(copy);
  });

  it('an undefined variable: which one, where it is used, and the closest defined name', () => {
    const origin = { url: { layer: 'play "Web" vars', file: 'site.yml', line: 4, column: 7 } };
    const error = userErrorOf(() => interpolateVars({ url: 'http://{{ vipp }}/', vip: '10.0.0.1' }, origin));
    expect(error.message).toBe("undefined variable 'vipp' used in 'url'; did you mean 'vip'?");
    expect(error.where).toEqual({ file: 'site.yml', line: 4, column: 7 });
    expect(error.hint).toMatch(/^define vipp /);
  });

  it('an undefined variable in a role default names the role, having no file', () => {
    const error = userErrorOf(() => interpolateVars({ port: '{{ http_port }}' }, { port: { layer: 'role web defaults' } }));
    expect(error.message).toBe("undefined variable 'http_port' used in 'port' (set in role web defaults)");
    expect(error.where).toEqual({});
  });

  it('a cycle, however long, is an error naming its chain', () => {
    const origin = { c: { layer: 'x', file: 'vars.yml', line: 3, column: 1 } };
    const error = userErrorOf(() => interpolateVars({ a: '{{ b }}', b: 'x{{ c }}', c: '{{ a.key }}' }, origin));
    expect(error.message).toBe("variables refer to each other in a cycle: a -> b -> c -> a (in 'c')");
    expect(error.where).toEqual({ file: 'vars.yml', line: 3, column: 1 });
    expect(userErrorOf(() => interpolateVars({ self: { a: 1, b: '{{ self.a }}' } })).message).toBe(
      "variables refer to each other in a cycle: self -> self (in 'self.b')",
    );
  });

  it('a missing key of a mapping', () => {
    const error = userErrorOf(() => interpolateVars({ cluster: { vip: '1' }, x: '{{ cluster.vipp }}' }));
    expect(error.message).toBe("'cluster' has no key 'vipp' (used in 'x'); did you mean 'vip'?");
    expect(error.hint).toBe("'cluster' has the keys: vip");
  });

  it('a list or mapping inside a longer string', () => {
    const error = userErrorOf(() => interpolateVars({ nodes: ['a'], line: 'node {{ nodes }}' }));
    expect(error.message).toBe("{{ nodes }} is a list and cannot be part of a longer string (in 'line')");
  });

  it('expressions beyond names and keys, and unclosed braces', () => {
    expect(userErrorOf(() => interpolateVars({ a: '{{ b | default(1) }}', b: 1 })).message).toBe(
      "unsupported template {{ b | default(1) }} in 'a': only a variable name and keys are allowed, like {{ name }} or {{ name.key }}",
    );
    expect(userErrorOf(() => interpolateVars({ a: 'x {{ b' })).message).toBe("'{{' without a closing '}}' in 'a'");
  });

  it('points at the exact line of a nested string of an inventory variable', async () => {
    const dir = await writeTree({
      'hosts.yaml': 'all:\n  hosts: { lvs-master: }\n',
      'group_vars/all.yml': ['ldirectord:', '  checktype: negotiate', '  virtual:', '    - "{{ vip }}:80"', ''].join('\n'),
    });
    const inventory = await loadInventory(path.join(dir, 'hosts.yaml'));
    const host = inventory.hosts.get('lvs-master');
    const error = userErrorOf(() => interpolateVars(host?.vars ?? {}, host?.varOrigin));
    expect(error.message).toBe("undefined variable 'vip' used in 'ldirectord.virtual[0]'");
    expect(error.where).toEqual({ file: path.join(dir, 'group_vars/all.yml'), line: 4, column: 7 });
  });

  it('the location of a top-level string is its key', async () => {
    const dir = await writeTree({ 'hosts.yaml': ['all:', '  hosts:', '    web1:', '      vars:', "        url: 'http://{{ vip }}/'", ''].join('\n') });
    const inventory = await loadInventory(path.join(dir, 'hosts.yaml'));
    const host = inventory.hosts.get('web1');
    const error = await userError(Promise.resolve().then(() => interpolateVars(host?.vars ?? {}, host?.varOrigin)));
    expect(error.where).toEqual({ file: path.join(dir, 'hosts.yaml'), line: 5, column: 9 });
  });
});
