// Issue 8, problems 1-3: values that the schema and lint used to accept and that ended up executed
// as root on a target. Each is now refused when the inventory loads, at the file:line that wrote it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { problems, tempTree, userError } from './files.ts';

const writeTree = tempTree();
const env = { HA_AUTH_KEY: 'hostile-test-key' };

/** A heartbeat cluster of two directors and a real server, with `extra` lines under cluster.heartbeat. */
function inventory({ master = 'lvs-master', allVars = '', heartbeat = '' }: { master?: string; allVars?: string; heartbeat?: string } = {}): string {
  return [
    'all:',
    ...(allVars === '' ? [] : ['  vars:', allVars]),
    '  hosts:',
    `    ${JSON.stringify(master)}: { address: 192.168.2.250 }`,
    '    lvs-backup: { address: 192.168.2.251 }',
    '    web1: { address: 192.168.2.252 }',
    'cluster:',
    '  name: web',
    '  manager: heartbeat',
    `  directors: [${JSON.stringify(master)}, lvs-backup]`,
    '  virtual_services:',
    '    - { vip: 192.168.2.254, port: 80, realservers: [{ host: web1 }] }',
    '  heartbeat:',
    '    ucast: [{ interface: eth0 }]',
    '    authkeys: { method: sha1, key: !env HA_AUTH_KEY }',
    ...(heartbeat === '' ? [] : [heartbeat]),
    '',
  ].join('\n');
}

async function loadProblems(text: string, extra: Record<string, string> = {}): Promise<string[]> {
  const dir = await writeTree({ 'hosts.yaml': text, ...extra });
  return problems(await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env })));
}

describe('values that reached a target as code are refused at load', () => {
  it('1: a host name with shell syntax (it becomes HOSTNAME= in a file EL sources at boot)', async () => {
    const found = await loadProblems(inventory({ master: '$(touch${IFS}/tmp/x)' }));
    expect(found[0]).toMatch(/^3:5 all\.hosts\.\$\(touch\$\{IFS\}\/tmp\/x\): .* is not a valid name .*: expected a host name as `hostname` accepts it \(RFC 1123\)/);
  });

  it('2: the base role\'s default_gateway (written as GATEWAY= in /etc/sysconfig/network)', async () => {
    const found = await loadProblems(inventory({ allVars: '    default_gateway: "; touch /tmp/x ;"' }));
    expect(found).toEqual([
      `3:5 variable default_gateway of role base: expected the default gateway's IPv4 address, e.g. 192.168.2.1 (or '' to leave GATEWAY alone), got "; touch /tmp/x ;"`,
    ]);
  });

  it('2: also from group_vars/ and through a {{ }} reference', async () => {
    const found = await loadProblems(inventory({ allVars: '    gw: "1.2.3.4; reboot"\n    default_gateway: "{{ gw }}"' }));
    expect(found).toEqual([expect.stringMatching(/^4:5 variable default_gateway of role base: expected .*, got "1\.2\.3\.4; reboot"$/)]);
    const fromFile = await loadProblems(inventory(), { 'group_vars/all.yml': 'default_gateway: "$(reboot)"\n' });
    expect(fromFile).toEqual([expect.stringMatching(/^1:1 variable default_gateway of role base: expected/)]);
  });

  it('3: a newline in heartbeat.logging.logfile (it added a `respawn root ...` line to ha.cf)', async () => {
    const found = await loadProblems(inventory({ heartbeat: '    logging: { logfile: "/var/log/ha-log\\nrespawn root /usr/bin/touch /tmp/x" }' }));
    expect(found).toEqual([expect.stringMatching(/^15:25 cluster\.heartbeat\.logging\.logfile: expected a log file path, e\.g\. \/var\/log\/ha-log \(an absolute path .*\), got "\/var\/log\/ha-log\\nrespawn root/)]);
  });

  it('9: values the config writers cannot write are refused at load, not mid-run on the host', async () => {
    const check = (line: string) => inventory().replace("realservers: [{ host: web1 }] }", `realservers: [{ host: web1 }], check: { ${line} } }`);
    expect(await loadProblems(check('checktype: negotiate, receive: \'say "hi"\''))).toEqual([expect.stringMatching(/cluster\.virtual_services\[0\]\.check\.receive: expected one line of text without '"' or '#'/)]);
    expect(await loadProblems(check('checktype: negotiate, receive: "Test #1"'))).toEqual([expect.stringMatching(/check\.receive: expected/)]);
    expect(await loadProblems(check('checktype: negotiate, receive: "Test\\nPage"'))).toEqual([expect.stringMatching(/check\.receive: expected/)]);
    expect(await loadProblems(check('checktype: negotiate, request: "page#1.html"'))).toEqual([expect.stringMatching(/check\.request: expected the page to request/)]);
    expect(await loadProblems(check('checktype: negotiate, virtualhost: "www.example.com x"'))).toEqual([expect.stringMatching(/check\.virtualhost: expected the Host: header/)]);
    const keepalived = (settings: string) =>
      [
        'all:',
        '  hosts:',
        '    lvs-master: { address: 192.168.2.250 }',
        '    lvs-backup: { address: 192.168.2.251 }',
        '    web1: { address: 192.168.2.252 }',
        'cluster:',
        '  name: web',
        '  manager: keepalived',
        '  directors: [lvs-master, lvs-backup]',
        '  virtual_services: [{ vip: 192.168.2.254, port: 80, realservers: [{ host: web1 }] }]',
        `  keepalived: { virtual_router_id: 51, ${settings} }`,
        '',
      ].join('\n');
    const vrrp = { VRRP_PASS: 'pa{ss}!1' };
    const dir = await writeTree({ 'hosts.yaml': keepalived('auth: { pass: !env VRRP_PASS }') });
    const refused = await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env: vrrp }));
    expect(problems(refused)).toEqual([expect.stringMatching(/^11:\d+ cluster\.keepalived\.auth\.pass: expected the VRRP password.*without blanks, quotes, braces, backslash, '!' or '#', got a value read with !env \(not shown\)$/)]);
    expect(await loadProblems(keepalived('notification_email: { to: [root@localhost], from: ka@example.com, smtp_server: "127.0.0.1 25" }'))).toEqual([
      expect.stringMatching(/notification_email\.smtp_server: expected the SMTP server: a host name or an IPv4 address/),
    ]);
  });

  it('a valid gateway and the default pass', async () => {
    const dir = await writeTree({ 'hosts.yaml': inventory({ allVars: '    default_gateway: 192.168.2.1\n    boot_method: init-script' }) });
    const loaded = await loadInventory(path.join(dir, 'hosts.yaml'), { env });
    expect(loaded.hosts.get('web1')?.vars.default_gateway).toBe('192.168.2.1');
  });
});
