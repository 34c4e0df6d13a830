import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../../src/inventory/extra-vars.ts';
import { fixture, problems, userError } from './files.ts';

describe('parseExtraVars', () => {
  it('key=value, several per argument, values kept as strings', async () => {
    const extra = await parseExtraVars(['vip=10.0.0.1 port=80', 'debug=true empty=']);
    expect(extra.vars).toEqual({ vip: '10.0.0.1', port: '80', debug: 'true', empty: '' });
    expect(extra.name).toBe('extra vars (-e)');
    expect(extra.secrets).toEqual(new Set());
  });

  it('quotes group words; only the first = splits', async () => {
    const extra = await parseExtraVars([`msg="two words" path='/a b/c' expr=a=b q="say \\"hi\\""`]);
    expect(extra.vars).toEqual({ msg: 'two words', path: '/a b/c', expr: 'a=b', q: 'say "hi"' });
  });

  it('a JSON or YAML mapping keeps the types of its values', async () => {
    const json = await parseExtraVars(['{"port": 80, "nodes": ["a", "b"], "on": true}']);
    expect(json.vars).toEqual({ port: 80, nodes: ['a', 'b'], on: true });
    const yaml = await parseExtraVars(['{port: 80, vip: 10.0.0.1}']);
    expect(yaml.vars).toEqual({ port: 80, vip: '10.0.0.1' });
  });

  it('@file reads a YAML file, with its !env secrets and the origin of each variable', async () => {
    const file = fixture('inventory/extra-vars/override.yml');
    const extra = await parseExtraVars([`@${path.relative(process.cwd(), file)}`], { env: { FIXTURE_EXTRA_SECRET: 's3cr3t' } });
    expect(extra.vars).toEqual({ vip: '10.0.0.9', ports: [80, 443], password: 's3cr3t' });
    expect(extra.secrets).toEqual(new Set(['s3cr3t']));
    expect(extra.origin?.ports).toMatchObject({ line: 2, column: 1 });
  });

  it('@file is relative to cwd when given', async () => {
    const extra = await parseExtraVars(['@override.yml'], { cwd: fixture('inventory/extra-vars'), env: { FIXTURE_EXTRA_SECRET: 's3cr3t' } });
    expect(extra.vars.vip).toBe('10.0.0.9');
  });

  it('later arguments win, variable by variable', async () => {
    const extra = await parseExtraVars(['a=1 b=1', '{"b": 2, "c": 2}', 'c=3']);
    expect(extra.vars).toEqual({ a: '1', b: 2, c: '3' });
  });

  it('mistakes', async () => {
    expect((await userError(parseExtraVars(['vip']))).message).toBe("-e 'vip': 'vip' is not key=value");
    expect((await userError(parseExtraVars(['my-var=1']))).message).toBe("-e 'my-var=1': 'my-var' is not a variable name");
    expect((await userError(parseExtraVars(['=1']))).message).toBe("-e '=1': '' is not a variable name");
    expect((await userError(parseExtraVars(['msg="open']))).message).toBe(`-e 'msg="open': unclosed " quote`);
    expect((await userError(parseExtraVars(['@']))).message).toBe("-e '@': no file name after '@'");
    expect((await userError(parseExtraVars(['@/nonexistent/vars.yml']))).message).toBe('cannot read extra vars file /nonexistent/vars.yml: no such file');
    expect(problems(await userError(parseExtraVars(['{"bad-name": 1}'])))).toEqual([
      "1:2 bad-name: 'bad-name' is not a valid name in the extra variables: expected a variable name: letters, digits and _, not starting with a digit",
    ]);
    expect((await userError(parseExtraVars(['{port: 80']))).message).toMatch(/^YAML syntax error: /);
  });
});
