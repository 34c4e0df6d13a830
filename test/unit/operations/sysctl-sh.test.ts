// sysctl's probe and in-place edit run by real shells (dash with the host's awk, busybox sh with
// busybox awk) on files of a temporary directory: the paths of /etc/sysctl.conf and of the drop-in
// file are replaced by temporary ones. The kernel values are those of this machine, so no plan here
// sets one (and none may: the tests check that no script holds sysctl -w).
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../../src/core/operation.ts';
import { parameterOf, sysctl, sysctlProbeAwk, type SysctlFiles, type SysctlOptions } from '../../../src/operations/sysctl.ts';
import { factsFor } from '../../support/facts.ts';
import { applyWith, cleanup, freshDir, probeWith, shells, type Shell } from './real-shell.ts';

afterAll(() => cleanup());

const kernel = (path: string) => readFileSync(`/proc/sys/${path}`, 'utf8').trim().split(/\s+/).join(' ');
const arpIgnore = () => kernel('net/ipv4/conf/all/arp_ignore');
const arpAnnounce = () => kernel('net/ipv4/conf/all/arp_announce');
const modeOf = (path: string) => statSync(path).mode & 0o7777;

function changed(plan: Plan) {
  if (!plan.changed) throw new Error('expected a change, got none');
  expect(plan.script).not.toContain('sysctl -w');
  return plan;
}

describe.each(shells())('sysctl under $name', (shell: Shell) => {
  let dir: string;
  let files: SysctlFiles;
  const debian = factsFor('debian12');
  const op = (options: SysctlOptions) => sysctl(options, files);
  const planOf = (options: SysctlOptions, facts = debian) => {
    const o = op(options);
    return o.plan(facts, probeWith(shell, o));
  };
  const apply = (plan: Plan) => {
    const result = applyWith(shell, changed(plan).script);
    expect(result.status, result.stderr).toBe(0);
    return result;
  };

  beforeEach(() => {
    dir = freshDir('sysctl-sh');
    files = { main: join(dir, 'sysctl.conf'), dropIn: join(dir, 'sysctl.d', '90-provision.conf') };
    writeFileSync(files.main, '# stock\n#net.ipv4.ip_forward=1\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the lines of its parameter as the planner models it, and no other line', () => {
    const lines = [
      'net.ipv4.conf.eth0/100.rp_filter = 1',
      '  net/ipv4/conf/eth0.100/rp_filter=2',
      '-net.ipv4.conf.eth0/100.rp_filter = 3',
      '\t- net.ipv4.conf.eth0/100.rp_filter\t=4\r',
      '#net.ipv4.conf.eth0/100.rp_filter = 5',
      ';net.ipv4.conf.eth0/100.rp_filter = 6',
      'net.ipv4.conf.eth0.100.rp_filter = 7',
      'net.ipv4.conf.eth0/100.rp_filter_x = 8',
      'net.ipv4.conf.eth0/100.rp_filter',
      ' = net.ipv4.conf.eth0/100.rp_filter',
      "net.ipv4.conf.eth0/100.rp_filter = '$(x)' \\ %s",
      '',
    ];
    writeFileSync(files.main, lines.join('\n'));
    const script = `provision_param=net/ipv4/conf/eth0.100/rp_filter provision_file=F LC_ALL=C awk '${sysctlProbeAwk.replaceAll("'", "'\\''")}' <${files.main}\n`;
    const result = applyWith(shell, script);
    expect(result.status, result.stderr).toBe(0);
    const expected = lines.flatMap((text, i) => (parameterOf(text) === 'net/ipv4/conf/eth0.100/rp_filter' ? [`line\tF\t${i + 1}\t${text}\n`] : []));
    expect(expected.map((l) => l.split('\t')[2])).toEqual(['1', '2', '3', '4', '11']);
    expect(result.stdout).toBe(expected.join(''));
  });

  it('applies two parameters planned on the same first probe, both into one new file in a new directory', () => {
    const all = { name: 'net.ipv4.conf.all.arp_ignore', value: arpIgnore() };
    const announce = { name: 'net.ipv4.conf.all.arp_announce', value: arpAnnounce() };
    const probeBefore = probeWith(shell, op(announce));
    const first = planOf(all);
    const second = planOf(announce);
    expect(existsSync(join(dir, 'sysctl.d'))).toBe(false);

    apply(first);
    // The point of the narrow probe: the other task's probe does not see the first edit, so the
    // runner does not find it stale.
    expect(probeWith(shell, op(announce))).toEqual(probeBefore);
    apply(second);

    expect(readFileSync(files.dropIn, 'utf8')).toBe(`net.ipv4.conf.all.arp_ignore = ${all.value}\nnet.ipv4.conf.all.arp_announce = ${announce.value}\n`);
    expect(modeOf(files.dropIn)).toBe(0o644);
    expect(statSync(files.dropIn).uid).toBe(process.getuid?.());
    expect(readFileSync(files.main, 'utf8')).toBe('# stock\n#net.ipv4.ip_forward=1\n');
    expect(planOf(all)).toEqual({ changed: false });
    expect(planOf(announce)).toEqual({ changed: false });
    expect(readdirSync(join(dir, 'sysctl.d'))).toEqual(['90-provision.conf']);
  });

  it('replaces the lines of another value in place, keeps the rest byte for byte, and the mode and owner', () => {
    mkdirSync(join(dir, 'sysctl.d'));
    const value = arpIgnore();
    const other = value === '1' ? '2' : '1';
    const before = [
      '# keep: net.ipv4.conf.all.arp_ignore = 9',
      `net.ipv4.conf.all.arp_ignore=${other}`,
      `  net/ipv4/conf/all/arp_ignore   =   ${value}  `,
      'kernel.sysrq = 0\r',
      `-net.ipv4.conf.all.arp_ignore = ${other}`,
      "weird = '$(touch x)' \\ %s",
    ].join('\n');
    writeFileSync(files.dropIn, `${before}\n`);
    writeFileSync(files.main, `net.ipv4.conf.all.arp_ignore = ${other}\n`);
    chownSync(files.dropIn, 1, 1);
    const options = { name: 'net.ipv4.conf.all.arp_ignore', value };
    const plan = changed(planOf(options));
    expect(plan.summary).toBe(`persist net.ipv4.conf.all.arp_ignore = ${value} in ${files.dropIn}; persist net.ipv4.conf.all.arp_ignore = ${value} in ${files.main}`);
    expect(plan.diff).toEqual([
      {
        path: files.dropIn,
        edits: [
          { line: 2, before: `net.ipv4.conf.all.arp_ignore=${other}`, after: `net.ipv4.conf.all.arp_ignore = ${value}` },
          { line: 5, before: `-net.ipv4.conf.all.arp_ignore = ${other}`, after: `net.ipv4.conf.all.arp_ignore = ${value}` },
        ],
      },
      { path: files.main, edits: [{ line: 1, before: `net.ipv4.conf.all.arp_ignore = ${other}`, after: `net.ipv4.conf.all.arp_ignore = ${value}` }] },
    ]);
    // The mode is changed after planning: the edit keeps what the file has when it runs.
    chmodSync(files.dropIn, 0o600);
    apply(plan);
    const lines = before.split('\n');
    lines[1] = lines[4] = `net.ipv4.conf.all.arp_ignore = ${value}`;
    expect(readFileSync(files.dropIn, 'utf8')).toBe(`${lines.join('\n')}\n`);
    expect(readFileSync(files.main, 'utf8')).toBe(`net.ipv4.conf.all.arp_ignore = ${value}\n`);
    expect(modeOf(files.dropIn)).toBe(0o600);
    expect(statSync(files.dropIn).uid).toBe(1);
    expect(statSync(files.dropIn).gid).toBe(1);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(planOf(options)).toEqual({ changed: false });
  });

  it('appends after adding the missing final newline, and keeps it missing when it only replaces', () => {
    const value = arpIgnore();
    writeFileSync(files.main, '# no final newline\nkernel.sysrq = 0');
    const el5 = factsFor('el5');
    const options = { name: 'net.ipv4.conf.all.arp_ignore', value };
    apply(planOf(options, el5));
    expect(readFileSync(files.main, 'utf8')).toBe(`# no final newline\nkernel.sysrq = 0\nnet.ipv4.conf.all.arp_ignore = ${value}\n`);
    expect(planOf(options, el5)).toEqual({ changed: false });

    writeFileSync(files.main, `kernel.sysrq = 0\nnet.ipv4.conf.all.arp_ignore = 7`);
    apply(planOf(options, el5));
    expect(readFileSync(files.main, 'utf8')).toBe(`kernel.sysrq = 0\nnet.ipv4.conf.all.arp_ignore = ${value}`);
    expect(planOf(options, el5)).toEqual({ changed: false });
  });

  it('writes nothing when the lines of its parameter changed after the plan was made', () => {
    const value = arpIgnore();
    const options = { name: 'net.ipv4.conf.all.arp_ignore', value, file: files.main };
    const plan = changed(planOf(options));
    const changedSince = `# stock\nnet.ipv4.conf.all.arp_ignore = 7\n`;
    writeFileSync(files.main, changedSince);
    const result = applyWith(shell, plan.script);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('changed since they were read; nothing written');
    expect(readFileSync(files.main, 'utf8')).toBe(changedSince);
    expect(readdirSync(dir).filter((name) => name.includes('.provision-'))).toEqual([]);
  });

  it('fails without writing anything when the directory of a given file is missing', () => {
    const file = join(dir, 'missing', 'lvs.conf');
    const result = applyWith(shell, changed(planOf({ name: 'net.ipv4.conf.all.arp_ignore', value: arpIgnore(), file })).script);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('the directory');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
