// The roles' golden files: the atomic writes found in a script by the writer itself, the plan
// summary that shows them as one line each, the files stored once per content, and the comparison
// of a golden directory.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineRole, ops } from '../../../src/index.ts';
import type { EditedFileDiff } from '../../../src/core/operation.ts';
import { atomicWriteScript, type AtomicWrite } from '../../../src/operations/write-file.ts';
import { factsFor } from '../../support/facts.ts';
import { expectGoldenFiles, findAtomicWrite, findSysctlEdit, goldenDir, renderPlanSummary, renderRoleGoldens } from '../../support/goldens.ts';
import { planRole } from '../../support/plan-role.ts';

describe('findAtomicWrite', () => {
  const base: AtomicWrite = { path: '/etc/ha.d/authkeys', content: 'auth 1\n1 sha1 k\n', mode: 0o600, backup: false, replaces: false };
  const variants: AtomicWrite[] = [
    base,
    { ...base, owner: 'root' },
    { ...base, group: 'haclient' },
    { ...base, owner: 'hacluster', group: 'haclient', mode: 0o640 },
    { ...base, replaces: true, owner: '0', group: '107' },
    { ...base, replaces: true, backup: true, mode: 0o644 },
  ];

  it.each(variants.map((w) => [JSON.stringify({ ...w, content: undefined }), w] as const))('finds the mode, owner, group and backup of %s between other lines', (_, write) => {
    const before = 'mkdir -p /etc/ha.d';
    const script = `${before}\n${atomicWriteScript(write)}\necho done`;
    expect(findAtomicWrite(script, write.path, write.content, write.replaces)).toEqual({
      start: before.length + 1,
      end: before.length + 1 + atomicWriteScript(write).length,
      write,
    });
  });

  it('finds the write whatever digits and words the content holds', () => {
    const write = { ...base, content: '7777 7776 provision-golden-owner\n', owner: 'root' };
    expect(findAtomicWrite(atomicWriteScript(write), write.path, write.content, false)?.write).toEqual(write);
  });

  it('finds nothing for another content or path, a new file taken for a replaced one, an altered line or a block inside a line', () => {
    const script = atomicWriteScript(base);
    expect(findAtomicWrite(script, base.path, 'auth 2\n', false)).toBeUndefined();
    expect(findAtomicWrite(script, '/etc/ha.d/other', base.content, false)).toBeUndefined();
    expect(findAtomicWrite(script, base.path, base.content, true)).toBeUndefined();
    expect(findAtomicWrite(script.replace('mv -f', 'mv'), base.path, base.content, false)).toBeUndefined();
    expect(findAtomicWrite(`true && ${script}`, base.path, base.content, false)).toBeUndefined();
  });
});

describe('findSysctlEdit', () => {
  const op = ops.sysctl({ name: 'net.ipv4.conf.eth0/100.rp_filter', value: "2 '$(x)'" });
  const stdout = [
    'runtime\t0',
    "line\t/etc/sysctl.conf\t3\tnet.ipv4.conf.eth0/100.rp_filter = 'old' \\",
    'file\t/etc/sysctl.conf\teditable',
    'file\t/etc/sysctl.d/90-provision.conf\teditable',
  ].join('\n');
  const plan = op.plan(factsFor('el7'), { stdout, exitCode: 0 });
  if (!plan.changed) throw new Error('expected a change');
  const [dropIn, main] = plan.diff as EditedFileDiff[];

  it('finds each edit on whole lines, with the probed lines its script checks', () => {
    const inDropIn = findSysctlEdit(plan.script, dropIn!);
    expect(inDropIn?.edit).toMatchObject({ procPath: 'net/ipv4/conf/eth0.100/rp_filter', setting: "net.ipv4.conf.eth0/100.rp_filter = 2 '$(x)'", lines: [], mkdir: true });
    expect(plan.script.slice(inDropIn!.start, inDropIn!.end).startsWith('mkdir -p /etc/sysctl.d')).toBe(true);
    const inMain = findSysctlEdit(plan.script, main!);
    expect(inMain?.edit).toMatchObject({ mkdir: false, lines: [{ nr: 3, text: "net.ipv4.conf.eth0/100.rp_filter = 'old' \\" }] });
    expect(inMain!.end).toBe(plan.script.length);
  });

  it('finds nothing for other edits than the script makes', () => {
    expect(findSysctlEdit(plan.script, { ...main!, edits: [{ line: 'end', after: 'x' }] })).toBeUndefined();
    expect(findSysctlEdit(plan.script, { ...dropIn!, path: '/etc/other.conf' })).toBeUndefined();
  });
});

// A role with every kind of step a plan summary shows: a file written then edited by a later task
// (with content and attributes per platform), a sysctl whose change adds commands around its
// write, a command and a handler.
const demo = defineRole({
  name: 'demo',
  defaults: {},
  tasks: () => [
    {
      name: 'conf',
      op: ops.file({ path: '/etc/demo.conf', content: (f) => `generation ${f.os.major >= 7 ? 'new' : 'old'}\n`, mode: '0640', owner: 'root', group: 'daemon' }),
      notify: ['restart demo'],
    },
    { name: 'forwarding', op: ops.sysctl({ name: 'net.ipv4.ip_forward', value: '1' }) },
    { name: 'second line', op: ops.line({ path: '/etc/demo.conf', line: 'second', backup: true }) },
    { name: 'greet', op: ops.command({ run: 'echo hello\n\necho world' }) },
  ],
  handlers: () => [{ name: 'restart demo', op: ops.service({ name: 'demo', state: 'restarted' }) }],
});

describe('renderPlanSummary', () => {
  it('shows each atomic write as one line with its golden file, a write a later task replaces as its diff, every other line as it is', () => {
    const plan = planRole(demo, { host: 'a', facts: factsFor('el7') });
    const names = new Map([
      ['/etc/demo.conf', 'DEMO'],
      ['/etc/sysctl.d/90-provision.conf', 'DROP-IN'],
    ]);
    expect(renderPlanSummary(plan, names)).toBe(
      [
        '[changed] conf',
        '  write /etc/demo.conf (mode 0640, owner root, group daemon)',
        '  notify: restart demo',
        '  = atomic write /etc/demo.conf (new file, mode 0640, owner root, group daemon), rewritten by a later task; this write changes:',
        '  =   @@ -0,0 +1,1 @@',
        '  =   +generation new',
        '',
        '[changed] forwarding',
        '  set net.ipv4.ip_forward = 1 (now 0); persist net.ipv4.ip_forward = 1 in /etc/sysctl.d/90-provision.conf',
        "  | if command -v sysctl >/dev/null 2>&1; then sysctl -w net.ipv4.ip_forward=1; else printf '%s\\n' 1 >/proc/sys/net/ipv4/ip_forward; fi",
        // sysctl's in-place edit: one line, with its diff; the file's final content is in its golden file.
        '  = sysctl edit of /etc/sysctl.d/90-provision.conf in place (mkdir -p of its directory first), if its lines of net/ipv4/ip_forward are still those probed (none):',
        '  =   @@ end of file @@',
        '  =   +net.ipv4.ip_forward = 1',
        '',
        '[changed] second line',
        '  append a line to /etc/demo.conf',
        // The simulated host keeps what it knows of a written file, its content, at default attributes.
        '  = atomic write /etc/demo.conf (replacing it, backed up first, mode 0644, owner 0, group 0): content in DEMO',
        '',
        '[changed] greet',
        '  run echo hello ...',
        '  | echo hello',
        '  |',
        '  | echo world',
        '',
        'handlers notified:',
        '',
        '[changed] restart demo',
        '  restart demo',
        '  | systemctl restart demo',
        '',
      ].join('\n'),
    );
  });

  it('shows skipped, unchanged and failed tasks, and a plan without tasks', () => {
    const quiet = defineRole({
      name: 'quiet',
      defaults: {},
      tasks: () => [
        { name: 'skip me', op: ops.command({ run: 'true' }), when: () => false },
        { name: 'fine', op: ops.command({ run: 'make', creates: '/etc/hosts' }) },
        { name: 'broken', op: ops.line({ path: '/etc/nothing', line: 'x' }) },
      ],
    });
    expect(renderPlanSummary(planRole(quiet, { host: 'a', facts: factsFor('el7') }), new Map())).toMatch(
      /^\[skipped\] skip me\n\n\[ok\] fine\n {2}\/etc\/hosts exists\n\n\[error\] broken\n {2}! line \/etc\/nothing: the file does not exist;[^\n]*\n$/,
    );
    expect(renderPlanSummary({ tasks: [], handlers: [] }, new Map())).toBe('(no tasks)\n');
  });

  it('asks for a golden file name for every final write', () => {
    expect(() => renderPlanSummary(planRole(demo, { host: 'a', facts: factsFor('el7') }), new Map())).toThrow(/no golden file name for \/etc\/demo.conf/);
  });
});

describe('renderRoleGoldens', () => {
  const goldens = renderRoleGoldens((['el5', 'el7', 'el8'] as const).map((p) => [p, planRole(demo, { host: 'a', facts: factsFor(p) })] as const));

  it('stores each final content once: under the path alone when every variant writes the same, else named after its variants', () => {
    expect([...goldens.keys()].sort()).toEqual(['_etc_demo.conf@el5', '_etc_demo.conf@el7+el8', '_etc_sysctl.conf', '_etc_sysctl.d_90-provision.conf', 'plan.txt']);
    expect(goldens.get('_etc_demo.conf@el5')).toBe('generation old\nsecond\n');
    expect(goldens.get('_etc_demo.conf@el7+el8')).toBe('generation new\nsecond\n');
    expect(goldens.get('_etc_sysctl.d_90-provision.conf')).toBe('net.ipv4.ip_forward = 1\n');
    expect(goldens.get('_etc_sysctl.conf')).toContain('\n# Controls IP packet forwarding\nnet.ipv4.ip_forward = 1\n');
  });

  it('gives one section to the variants that plan the same, referring to their own files', () => {
    const plan = goldens.get('plan.txt') ?? '';
    expect(plan.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## el5', '## el7, el8']);
    const [el5, el7] = plan.split(/^## .*\n\n/m).slice(1);
    expect(el5).toContain('content in _etc_demo.conf@el5\n');
    expect(el5).toContain(
      '= sysctl edit of /etc/sysctl.conf in place, if its lines of net/ipv4/ip_forward are still those probed (line 7):\n  =   @@ -7 +7 @@\n  =   -net.ipv4.ip_forward = 0\n  =   +net.ipv4.ip_forward = 1\n',
    );
    expect(el7).toContain('content in _etc_demo.conf@el7+el8\n');
    expect(el7).toBe(renderPlanSummary(planRole(demo, { host: 'a', facts: factsFor('el8') }), new Map([['/etc/demo.conf', '_etc_demo.conf@el7+el8'], ['/etc/sysctl.d/90-provision.conf', '_etc_sysctl.d_90-provision.conf']])));
  });
});

describe('expectGoldenFiles', () => {
  const dir = `goldens-test-${process.pid}`;
  const full = path.join(goldenDir, dir);
  const saved = process.env.UPDATE_GOLDEN;
  afterEach(() => {
    rmSync(full, { recursive: true, force: true });
    if (saved === undefined) delete process.env.UPDATE_GOLDEN;
    else process.env.UPDATE_GOLDEN = saved;
  });
  const files = (entries: Record<string, string>) => new Map(Object.entries(entries));

  it('asks for UPDATE_GOLDEN=1 when the directory is missing, writes it then, and compares afterwards', () => {
    delete process.env.UPDATE_GOLDEN;
    expect(() => expectGoldenFiles(dir, files({ 'plan.txt': 'one\n' }))).toThrow(/does not exist; run the test with UPDATE_GOLDEN=1/);
    process.env.UPDATE_GOLDEN = '1';
    expectGoldenFiles(dir, files({ 'plan.txt': 'one\n', _etc_x: 'x\n' }));
    expect(readFileSync(path.join(full, 'plan.txt'), 'utf8')).toBe('one\n');
    delete process.env.UPDATE_GOLDEN;
    expectGoldenFiles(dir, files({ 'plan.txt': 'one\n', _etc_x: 'x\n' }));
    expect(() => expectGoldenFiles(dir, files({ 'plan.txt': 'two\n', _etc_x: 'x\n' }))).toThrow(/plan.txt \(UPDATE_GOLDEN=1 rewrites it\)/);
  });

  it('fails on a file no longer rendered or not yet written; UPDATE_GOLDEN=1 removes and writes them', () => {
    mkdirSync(full, { recursive: true });
    writeFileSync(path.join(full, 'plan.txt'), 'one\n');
    writeFileSync(path.join(full, '_etc_stale'), 'old\n');
    delete process.env.UPDATE_GOLDEN;
    expect(() => expectGoldenFiles(dir, files({ 'plan.txt': 'one\n' }))).toThrow(/the files of test\/fixtures\/golden\/goldens-test-\d+/);
    expect(() => expectGoldenFiles(dir, files({ 'plan.txt': 'one\n', _etc_stale: 'old\n', _etc_new: 'new\n' }))).toThrow(/the files of/);
    process.env.UPDATE_GOLDEN = '1';
    expectGoldenFiles(dir, files({ 'plan.txt': 'one\n', _etc_new: 'new\n' }));
    expect(readdirSync(full).sort()).toEqual(['_etc_new', 'plan.txt']);
    expect(existsSync(path.join(full, '_etc_stale'))).toBe(false);
  });

  it('refuses paths outside the golden directory and names that are not file names', () => {
    expect(() => expectGoldenFiles('../escape', files({ 'plan.txt': '' }))).toThrow(/is not a path inside test\/fixtures\/golden/);
    expect(() => expectGoldenFiles(dir, files({ 'a/b': '' }))).toThrow(/is not a file name/);
  });
});
