// sysctl: probe output fixtures (the runtime value and the candidate files) -> the exact change for
// every platform.
import { describe, expect, it } from 'vitest';
import { OperationError, StateError, type LineEdit, type Plan } from '../../../src/core/operation.ts';
import { parameterOf, procPathOf, sysctl } from '../../../src/operations/sysctl.ts';
import { applyLineEdits } from '../../../src/operations/text-lines.ts';
import { renderFileDiff } from '../../../src/report/diff.ts';
import { factsFor, platforms, type Platform } from '../../support/facts.ts';

const line = (...fields: string[]) => fields.join('\t');

/**
 * What the sysctl probe prints for a file: the lines that set `param` (a /proc/sys path), numbered,
 * then the file's kind (editable: a regular file or absent). Computed with parameterOf, the model of
 * the probe's awk (checked against the real awk in sysctl-sh.test.ts).
 */
function fileRecords(path: string, content: string | null, param = 'net/ipv4/ip_forward'): string[] {
  const lines = (content ?? '').split('\n').flatMap((text, i) => (parameterOf(text) === param ? [line('line', path, String(i + 1), text)] : []));
  return [...lines, line('file', path, 'editable')];
}

interface Host {
  runtime: string;
  /** /etc/sysctl.conf */
  main?: string | null;
  /** /etc/sysctl.d/90-provision.conf */
  dropIn?: string | null;
}

function probeOutput({ runtime, main = debianMain, dropIn = null }: Host): string {
  return [line('runtime', runtime), ...fileRecords('/etc/sysctl.conf', main), ...fileRecords('/etc/sysctl.d/90-provision.conf', dropIn)].join('\n') + '\n';
}

/** The shape of a stock /etc/sysctl.conf: only comments, the setting among them commented out. */
const debianMain = '#\n# /etc/sysctl.conf - Configuration file for setting system variables\n#net.ipv4.ip_forward=1\n';
/** CentOS 5's stock file, which the tutorials edit: forwarding explicitly off. */
const centos5Main = '# Kernel sysctl configuration file for Red Hat Linux\n\n# Controls IP packet forwarding\nnet.ipv4.ip_forward = 0\n\n# Controls source route verification\nnet.ipv4.conf.default.rp_filter = 1\n';

const forward = sysctl({ name: 'net.ipv4.ip_forward', value: '1' });
const runtimeCommand = "if command -v sysctl >/dev/null 2>&1; then sysctl -w net.ipv4.ip_forward=1; else printf '%s\\n' 1 >/proc/sys/net/ipv4/ip_forward; fi";

function planOn(platform: Platform, host: Host, op = forward): Plan {
  return op.plan(factsFor(platform), { stdout: probeOutput(host), exitCode: 0 });
}

function changed(plan: Plan) {
  if (!plan.changed) throw new Error('expected a change, got none');
  return plan;
}

const dropIn = '/etc/sysctl.d/90-provision.conf';
const setting = 'net.ipv4.ip_forward = 1';
/** The file each platform persists to, and the edit of its stock content. */
const persisted: Record<Platform, { path: string; edits: LineEdit[] }> = {
  el5: { path: '/etc/sysctl.conf', edits: [{ line: 4, before: 'net.ipv4.ip_forward = 0', after: setting }] },
  el6: { path: '/etc/sysctl.conf', edits: [{ line: 4, before: 'net.ipv4.ip_forward = 0', after: setting }] },
  el7: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  el8: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  el9: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  debian11: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  debian12: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  ubuntu2204: { path: dropIn, edits: [{ line: 'end', after: setting }] },
  ubuntu2404: { path: dropIn, edits: [{ line: 'end', after: setting }] },
};
const stockMain = (platform: Platform) => (factsFor(platform).os.major <= 6 && factsFor(platform).os.family === 'el' ? centos5Main : debianMain);
/** The stock file of the platform after the plan's edit. */
const persistedText = (platform: Platform) => (persisted[platform].path === dropIn ? `${setting}\n` : applyLineEdits(centos5Main, persisted[platform].edits));

describe('sysctl on every platform', () => {
  it.each(platforms)('sets the runtime value and persists it in the family file on %s', (platform) => {
    const want = persisted[platform];
    const plan = changed(planOn(platform, { runtime: '0', main: stockMain(platform) }));
    expect(plan.summary).toBe(`set net.ipv4.ip_forward = 1 (now 0); persist net.ipv4.ip_forward = 1 in ${want.path}`);
    expect(plan.script.split('\n')[0]).toBe(runtimeCommand);
    expect(plan.script).toContain(`mv -f "$provision_tmp" ${want.path}`);
    expect(plan.diff).toEqual([{ path: want.path, edits: want.edits }]);
  });

  it.each(platforms)('only sets the runtime value on %s when the file has it already (runtime-only drift)', (platform) => {
    const want = persisted[platform];
    const host = want.path === '/etc/sysctl.conf' ? { runtime: '0', main: persistedText(platform) } : { runtime: '0', dropIn: persistedText(platform) };
    expect(planOn(platform, host)).toEqual({ changed: true, summary: 'set net.ipv4.ip_forward = 1 (now 0)', script: runtimeCommand });
  });

  it.each(platforms)('only persists on %s when the runtime value is right (persisted-only drift)', (platform) => {
    const want = persisted[platform];
    const plan = changed(planOn(platform, { runtime: '1', main: stockMain(platform) }));
    expect(plan.summary).toBe(`persist net.ipv4.ip_forward = 1 in ${want.path}`);
    expect(plan.script).not.toContain('sysctl -w');
    expect(plan.diff).toEqual([{ path: want.path, edits: want.edits }]);
  });

  it.each(platforms)('reports no change on %s when both are right', (platform) => {
    const want = persisted[platform];
    const host = want.path === '/etc/sysctl.conf' ? { runtime: '1', main: persistedText(platform) } : { runtime: '1', dropIn: persistedText(platform) };
    expect(planOn(platform, host)).toEqual({ changed: false });
  });
});

/** The environment word the edit script hands to awk, unquoted (quote() leaves simple words bare). */
function envOf(script: string, name: string): string {
  const match = new RegExp(`(?:^| )${name}=('(?:[^']|'\\\\'')*'|[^ ]*)`, 'm').exec(script);
  if (!match) throw new Error(`no ${name}= in the script`);
  const word = match[1] ?? '';
  return word.startsWith("'") ? word.slice(1, -1).replaceAll("'\\''", "'") : word;
}

describe('sysctl files', () => {
  it('creates /etc/sysctl.d when it is missing', () => {
    const plan = changed(planOn('debian12', { runtime: '1' }));
    expect(plan.script.split('\n')[0]).toBe('mkdir -p /etc/sysctl.d || exit 1');
  });

  it('probes only the lines of its own parameter, dotted or slashed, and not whether the file exists', () => {
    const op = sysctl({ name: 'net.ipv4.conf.eth0/100.rp_filter', value: '1' });
    const content = [
      'net.ipv4.conf.all.rp_filter = 1',
      ' net.ipv4.conf.eth0/100.rp_filter = 0',
      '#net.ipv4.conf.eth0/100.rp_filter = 1',
      '-\tnet/ipv4/conf/eth0.100/rp_filter=2\r',
      'net.ipv4.conf.eth0.100.rp_filter = 2',
      '; net.ipv4.conf.eth0/100.rp_filter = 3',
    ].join('\n');
    const records = fileRecords(dropIn, content, 'net/ipv4/conf/eth0.100/rp_filter');
    expect(records).toEqual([
      line('line', dropIn, '2', ' net.ipv4.conf.eth0/100.rp_filter = 0'),
      line('line', dropIn, '4', '-\tnet/ipv4/conf/eth0.100/rp_filter=2\r'),
      line('file', dropIn, 'editable'),
    ]);
    // Another parameter's line, or a missing file, prints the same as an empty file.
    expect(fileRecords(dropIn, 'net.ipv4.conf.all.rp_filter = 1\n', 'net/ipv4/conf/eth0.100/rp_filter')).toEqual(fileRecords(dropIn, null));
    const stdout = [line('runtime', '1'), ...fileRecords('/etc/sysctl.conf', debianMain), ...records].join('\n') + '\n';
    const plan = changed(op.plan(factsFor('debian12'), { stdout, exitCode: 0 }));
    expect(plan.summary).toBe('persist net.ipv4.conf.eth0/100.rp_filter = 1 in /etc/sysctl.d/90-provision.conf');
    expect(plan.diff).toEqual([
      {
        path: dropIn,
        edits: [
          { line: 2, before: ' net.ipv4.conf.eth0/100.rp_filter = 0', after: 'net.ipv4.conf.eth0/100.rp_filter = 1' },
          { line: 4, before: '-\tnet/ipv4/conf/eth0.100/rp_filter=2\r', after: 'net.ipv4.conf.eth0/100.rp_filter = 1' },
        ],
      },
    ]);
    expect(envOf(plan.script, 'provision_param')).toBe('net/ipv4/conf/eth0.100/rp_filter');
    expect(envOf(plan.script, 'provision_replace')).toBe(' 2 4 ');
    expect(envOf(plan.script, 'provision_append')).toBe('no');
    expect(envOf(plan.script, 'provision_expect')).toBe(' net.ipv4.conf.eth0/100.rp_filter = 0\n'.replace(/^/, '2\t') + '4\t-\tnet/ipv4/conf/eth0.100/rp_filter=2\r\n');
  });

  it('keeps the lines that give the value in any spacing, replaces the others, and appends nothing then', () => {
    const op = sysctl({ name: 'net.ipv4.ip_local_port_range', value: '32768 60999' });
    const content = '-net.ipv4.ip_local_port_range\t=  32768\t 60999  \nnet.ipv4.ip_local_port_range = 1024 65000\n';
    const stdout = [line('runtime', '32768\t60999'), ...fileRecords('/etc/sysctl.conf', debianMain), ...fileRecords(dropIn, content, 'net/ipv4/ip_local_port_range')].join('\n');
    const plan = changed(op.plan(factsFor('debian12'), { stdout, exitCode: 0 }));
    expect(plan.diff).toEqual([{ path: dropIn, edits: [{ line: 2, before: 'net.ipv4.ip_local_port_range = 1024 65000', after: 'net.ipv4.ip_local_port_range = 32768 60999' }] }]);
    expect(envOf(plan.script, 'provision_replace')).toBe(' 2 ');
    const kept = fileRecords(dropIn, content.split('\n')[0]!, 'net/ipv4/ip_local_port_range');
    expect(op.plan(factsFor('debian12'), { stdout: [line('runtime', '32768 60999'), ...fileRecords('/etc/sysctl.conf', debianMain), ...kept].join('\n'), exitCode: 0 })).toEqual({ changed: false });
  });

  it('appends when no line sets it (the edit adds a newline first to a file without one)', () => {
    const main = '# keep\r\n#net.ipv4.ip_forward=1\nkernel.sysrq = 0';
    const plan = changed(planOn('el5', { runtime: '1', main }));
    expect(plan.diff).toEqual([{ path: '/etc/sysctl.conf', edits: [{ line: 'end', after: setting }] }]);
    expect(envOf(plan.script, 'provision_append')).toBe('yes');
    expect(envOf(plan.script, 'provision_expect')).toBe('');
    expect(plan.script).toContain(`if [ -s /etc/sysctl.conf ] && [ -n "$(tail -c 1 /etc/sysctl.conf)" ]; then provision_newline=no; else provision_newline=yes; fi`);
    expect(applyLineEdits(main, [{ line: 'end', after: setting }])).toBe(`${main}\n${setting}\n`);
    expect(applyLineEdits(`${main}\n`, [{ line: 'end', after: setting }])).toBe(`${main}\n${setting}\n`);
  });

  it('also fixes /etc/sysctl.conf where it sets another value, since it is applied after /etc/sysctl.d at boot', () => {
    const main = '# local\nnet.ipv4.ip_forward=0\n';
    const plan = changed(planOn('el7', { runtime: '1', main }));
    expect(plan.summary).toBe(`persist ${setting} in ${dropIn}; persist ${setting} in /etc/sysctl.conf`);
    expect(plan.diff).toEqual([
      { path: dropIn, edits: [{ line: 'end', after: setting }] },
      { path: '/etc/sysctl.conf', edits: [{ line: 2, before: 'net.ipv4.ip_forward=0', after: setting }] },
    ]);
  });

  it('leaves /etc/sysctl.conf alone where it agrees', () => {
    const plan = changed(planOn('ubuntu2404', { runtime: '1', main: 'net.ipv4.ip_forward = 1\n' }));
    expect(plan.diff?.map((d) => d.path)).toEqual([dropIn]);
  });

  it('compares values with blanks normalized, in the runtime value and in the file', () => {
    const op = sysctl({ name: 'net.ipv4.ip_local_port_range', value: '32768 60999' });
    const stdout = [
      line('runtime', '32768\t60999'),
      ...fileRecords('/etc/sysctl.conf', debianMain),
      ...fileRecords(dropIn, '-net.ipv4.ip_local_port_range\t=  32768\t 60999  \n', 'net/ipv4/ip_local_port_range'),
    ].join('\n');
    expect(op.plan(factsFor('debian12'), { stdout, exitCode: 0 })).toEqual({ changed: false });
  });

  it('persists in the given file, reading it in the probe', () => {
    const op = sysctl({ name: 'net.ipv4.ip_forward', value: '1', file: '/etc/sysctl.d/50-lvs.conf' });
    expect(op.probe()).toContain("/etc/sysctl.d/50-lvs.conf");
    const stdout = [line('runtime', '1'), ...fileRecords('/etc/sysctl.conf', debianMain), ...fileRecords('/etc/sysctl.d/50-lvs.conf', null)].join('\n') + '\n';
    const plan = changed(op.plan(factsFor('el5'), { stdout, exitCode: 0 }));
    expect(plan.diff).toEqual([{ path: '/etc/sysctl.d/50-lvs.conf', edits: [{ line: 'end', after: setting }] }]);
    expect(plan.script).not.toContain('mkdir');
  });

  it('refuses a file that is a link, a directory or unreadable', () => {
    const withKind = (kind: string) => [line('runtime', '1'), ...fileRecords('/etc/sysctl.conf', debianMain), line('file', dropIn, kind)].join('\n');
    const plan = (kind: string) => () => forward.plan(factsFor('debian12'), { stdout: withKind(kind), exitCode: 0 });
    expect(plan('link')).toThrow(StateError);
    expect(plan('link')).toThrow(/is a symbolic link/);
    expect(plan('directory')).toThrow(/is a directory, not a regular file/);
    expect(plan('unreadable')).toThrow(/cannot read \/etc\/sysctl.d\/90-provision.conf/);
    expect(() => forward.plan(factsFor('debian12'), { stdout: line('runtime', '1'), exitCode: 0 })).toThrow(/could not read the state/);
  });

  it('with persist false reads and writes no file', () => {
    const op = sysctl({ name: 'net.ipv4.ip_forward', value: '1', persist: false });
    expect(op.probe()).not.toContain('sysctl.conf');
    expect(op.plan(factsFor('el9'), { stdout: 'runtime\t0\n', exitCode: 0 })).toEqual({
      changed: true,
      summary: 'set net.ipv4.ip_forward = 1 (now 0)',
      script: runtimeCommand,
    });
    expect(op.plan(factsFor('el9'), { stdout: 'runtime\t1\n', exitCode: 0 })).toEqual({ changed: false });
  });

  it('shows its edits as hunks with their line numbers in --diff', () => {
    const plan = changed(planOn('el7', { runtime: '1', main: '# local\nnet.ipv4.ip_forward=0\n' }));
    expect(plan.diff?.map((d) => renderFileDiff(d)).join('')).toBe(
      [
        `--- ${dropIn} (before)`,
        `+++ ${dropIn} (after)`,
        '@@ end of file @@',
        `+${setting}`,
        '--- /etc/sysctl.conf (before)',
        '+++ /etc/sysctl.conf (after)',
        '@@ -2 +2 @@',
        '-net.ipv4.ip_forward=0',
        `+${setting}`,
        '',
      ].join('\n'),
    );
  });
});

describe('sysctl names and errors', () => {
  it('maps names to /proc/sys paths as sysctl does (a VLAN interface keeps its dot)', () => {
    expect(procPathOf('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(procPathOf('net.ipv4.conf.eth0/100.arp_ignore')).toBe('net/ipv4/conf/eth0.100/arp_ignore');
    expect(procPathOf('net/ipv4/conf/eth0.100/arp_ignore')).toBe('net/ipv4/conf/eth0.100/arp_ignore');
    expect(sysctl({ name: 'net.ipv4.conf.eth0/100.arp_ignore', value: 1, persist: false }).probe()).toContain('/proc/sys/net/ipv4/conf/eth0.100/arp_ignore');
  });

  it('fails clearly for a parameter the kernel does not have', () => {
    const op = sysctl({ name: 'net.ipv4.vs.expire_nodest_conn', value: '1', persist: false });
    const plan = () => op.plan(factsFor('el5'), { stdout: 'runtime-missing\n', exitCode: 0 });
    expect(plan).toThrow(OperationError);
    expect(plan).toThrow(/has no such parameter \(\/proc\/sys\/net\/ipv4\/vs\/expire_nodest_conn does not exist\); check the name, or load the module/);
    expect(() => op.plan(factsFor('el5'), { stdout: 'runtime-unreadable\n', exitCode: 0 })).toThrow(/cannot be read/);
  });

  it('rejects bad names and values when the operation is built', () => {
    expect(() => sysctl({ name: 'net.ipv4.ip_forward; reboot', value: '1' })).toThrow(/is not a kernel parameter name/);
    expect(() => sysctl({ name: 'net..ipv4', value: '1' })).toThrow(/is not a kernel parameter name/);
    expect(() => sysctl({ name: 'net.ipv4.ip_forward', value: '1\nkernel.panic = 1' })).toThrow(/must be one line/);
    expect(() => sysctl({ name: 'net.ipv4.ip_forward', value: '  ' })).toThrow(/must be one line of text, not empty/);
    expect(() => sysctl({ name: 'net.ipv4.ip_forward', value: '1', file: 'sysctl.conf' })).toThrow(/absolute, normalized path/);
  });
});
