// sysctl: probe output fixtures (the runtime value and the candidate files) -> the exact change for
// every platform.
import { describe, expect, it } from 'vitest';
import { OperationError, type Plan } from '../../../src/core/operation.ts';
import { procPathOf, sysctl, withSetting } from '../../../src/operations/sysctl.ts';
import { factsFor, platforms, type Platform } from '../../support/facts.ts';

const line = (...fields: string[]) => fields.join('\t');

/** What fileStateProbe prints for a root-owned 0644 file (or a missing one), as the sysctl probe tags it. */
function fileRecords(path: string, content: string | null): string[] {
  const lines =
    content === null
      ? ['link=no', 'type=absent']
      : ['link=no', 'type=file', 'attrs=644 0 0 root root', '<<provision:content>>', ...`${content}\n<<provision:end>>`.split('\n')];
  return lines.map((l) => line('file', path, l));
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

/** The file each platform persists to, and what it holds afterwards when it held the stock content. */
const persisted: Record<Platform, { path: string; before: string | null; after: string }> = {
  el5: { path: '/etc/sysctl.conf', before: centos5Main, after: centos5Main.replace('net.ipv4.ip_forward = 0', 'net.ipv4.ip_forward = 1') },
  el6: { path: '/etc/sysctl.conf', before: centos5Main, after: centos5Main.replace('net.ipv4.ip_forward = 0', 'net.ipv4.ip_forward = 1') },
  el7: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  el8: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  el9: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  debian11: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  debian12: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  ubuntu2204: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
  ubuntu2404: { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
};
const stockMain = (platform: Platform) => (factsFor(platform).os.major <= 6 && factsFor(platform).os.family === 'el' ? centos5Main : debianMain);

describe('sysctl on every platform', () => {
  it.each(platforms)('sets the runtime value and persists it in the family file on %s', (platform) => {
    const want = persisted[platform];
    const plan = changed(planOn(platform, { runtime: '0', main: stockMain(platform) }));
    expect(plan.summary).toMatch(new RegExp(`^set net\\.ipv4\\.ip_forward = 1 \\(now 0\\); persist net\\.ipv4\\.ip_forward = 1 in ${want.path}`));
    expect(plan.script.split('\n')[0]).toBe(runtimeCommand);
    expect(plan.script).toContain(`mv -f "$provision_tmp" ${want.path}`);
    expect(plan.diff).toEqual([{ path: want.path, before: want.before, after: want.after }]);
  });

  it.each(platforms)('only sets the runtime value on %s when the file has it already (runtime-only drift)', (platform) => {
    const want = persisted[platform];
    const host = want.path === '/etc/sysctl.conf' ? { runtime: '0', main: want.after } : { runtime: '0', dropIn: want.after };
    expect(planOn(platform, host)).toEqual({ changed: true, summary: 'set net.ipv4.ip_forward = 1 (now 0)', script: runtimeCommand });
  });

  it.each(platforms)('only persists on %s when the runtime value is right (persisted-only drift)', (platform) => {
    const want = persisted[platform];
    const plan = changed(planOn(platform, { runtime: '1', main: stockMain(platform) }));
    expect(plan.summary).toMatch(/^persist net\.ipv4\.ip_forward = 1 in /);
    expect(plan.script).not.toContain('sysctl -w');
    expect(plan.diff).toEqual([{ path: want.path, before: want.before, after: want.after }]);
  });

  it.each(platforms)('reports no change on %s when both are right', (platform) => {
    const want = persisted[platform];
    const host = want.path === '/etc/sysctl.conf' ? { runtime: '1', main: want.after } : { runtime: '1', dropIn: want.after };
    expect(planOn(platform, host)).toEqual({ changed: false });
  });
});

describe('sysctl files', () => {
  it('creates /etc/sysctl.d when it is missing', () => {
    const plan = changed(planOn('debian12', { runtime: '1' }));
    expect(plan.script.split('\n')[0]).toBe('mkdir -p /etc/sysctl.d');
  });

  it('appends instead of uncommenting a commented-out line, keeping the file byte for byte otherwise', () => {
    const main = '# keep\r\n#net.ipv4.ip_forward=1\nkernel.sysrq = 0';
    const plan = changed(planOn('el5', { runtime: '1', main }));
    expect(plan.diff).toEqual([{ path: '/etc/sysctl.conf', before: main, after: `${main}\nnet.ipv4.ip_forward = 1\n` }]);
  });

  it('also fixes /etc/sysctl.conf where it sets another value, since it is applied after /etc/sysctl.d at boot', () => {
    const main = '# local\nnet.ipv4.ip_forward=0\n';
    const plan = changed(planOn('el7', { runtime: '1', main }));
    expect(plan.diff).toEqual([
      { path: '/etc/sysctl.d/90-provision.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' },
      { path: '/etc/sysctl.conf', before: main, after: '# local\nnet.ipv4.ip_forward = 1\n' },
    ]);
  });

  it('leaves /etc/sysctl.conf alone where it agrees', () => {
    const plan = changed(planOn('ubuntu2404', { runtime: '1', main: 'net.ipv4.ip_forward = 1\n' }));
    expect(plan.diff?.map((d) => d.path)).toEqual(['/etc/sysctl.d/90-provision.conf']);
  });

  it('compares values with blanks normalized, in the runtime value and in the file', () => {
    const op = sysctl({ name: 'net.ipv4.ip_local_port_range', value: '32768 60999' });
    const host = { runtime: '32768\t60999', dropIn: '-net.ipv4.ip_local_port_range\t=  32768\t 60999  \n' };
    expect(planOn('debian12', host, op)).toEqual({ changed: false });
  });

  it('rewrites every line of the parameter, whatever its spacing, and nothing else', () => {
    const before = 'a = 1\nnet.ipv4.ip_forward=0\n# net.ipv4.ip_forward = 0\n  net.ipv4.ip_forward   =   0  \nnet/ipv4/ip_forward = 0\nb = 2';
    expect(withSetting(before, 'net.ipv4.ip_forward', '1')).toBe(
      'a = 1\nnet.ipv4.ip_forward = 1\n# net.ipv4.ip_forward = 0\nnet.ipv4.ip_forward = 1\nnet.ipv4.ip_forward = 1\nb = 2',
    );
    expect(withSetting('', 'net.ipv4.ip_forward', '1')).toBe('net.ipv4.ip_forward = 1\n');
  });

  it('persists in the given file, reading it in the probe', () => {
    const op = sysctl({ name: 'net.ipv4.ip_forward', value: '1', file: '/etc/sysctl.d/50-lvs.conf' });
    expect(op.probe()).toContain("/etc/sysctl.d/50-lvs.conf");
    const stdout = [line('runtime', '1'), ...fileRecords('/etc/sysctl.conf', debianMain), ...fileRecords('/etc/sysctl.d/50-lvs.conf', null)].join('\n') + '\n';
    const plan = changed(op.plan(factsFor('el5'), { stdout, exitCode: 0 }));
    expect(plan.diff).toEqual([{ path: '/etc/sysctl.d/50-lvs.conf', before: null, after: 'net.ipv4.ip_forward = 1\n' }]);
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
