// What the project's libvirtd is given, and the networks it defines: isolated, as the Vagrantfile names them.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { simulatedInstalls } from '../../../src/lab/apt.ts';
import { isolatedNetworkXml, networkForwards, parseNetworkArgument, qemuConf, withLibvirtQemuAccount } from '../../../src/vagrant/libvirt-config.ts';

describe('the Vagrant lab networks', () => {
  it('parses the Vagrantfile arguments: the management network has DHCP', () => {
    expect(parseNetworkArgument('provision-mgmt=10.213.30.0/24,dhcp')).toEqual({ name: 'provision-mgmt', subnet: { network: (10 * 2 ** 24) + (213 << 16) + (30 << 8), prefix: 24 }, dhcp: true });
    expect(parseNetworkArgument('provision-lan=10.213.32.7/24').dhcp).toBe(false);
  });

  it('refuses what is not a private lab subnet or a usable name, saying what to give', () => {
    for (const bad of ['provision-lan=8.8.8.0/24', 'provision-lan=10.213.32.0/8', 'Bad Name=10.213.32.0/24', 'provision-lan', 'provision-lan=10.213.32.0/24,nat']) {
      expect(() => parseNetworkArgument(bad), bad).toThrow(UserError);
    }
  });

  it('defines each network isolated: no <forward> (no routing, no NAT), DNS off, DHCP on the management network only', () => {
    const management = isolatedNetworkXml(parseNetworkArgument('provision-mgmt=10.213.30.0/24,dhcp'), 'pvg0');
    expect(management).toBe(`<network>
  <name>provision-mgmt</name>
  <bridge name='pvg0' stp='off' delay='0'/>
  <dns enable='no'/>
  <ip address='10.213.30.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.213.30.127' end='10.213.30.254'/>
    </dhcp>
  </ip>
</network>
`);
    const lan = isolatedNetworkXml(parseNetworkArgument('provision-lan=10.213.32.0/24'), 'pvg1');
    expect(lan).not.toContain('<dhcp>');
    for (const xml of [management, lan]) expect(networkForwards(xml)).toBe(false);
    expect(networkForwards("<network><forward mode='nat'/></network>")).toBe(true);
  });
});

describe("the project's libvirtd", () => {
  it('runs qemu as root without relabelling files or virtlogd', () => {
    expect(qemuConf()).toContain('user = "root"');
    expect(qemuConf()).toContain('dynamic_ownership = 0');
    expect(qemuConf()).toContain('stdio_handler = "file"');
  });

  it('sees a libvirt-qemu account on a machine that has none, with a free id; the machine\'s own is kept', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nsomeone:x:64055:64055::/home/someone:/bin/sh\n';
    const group = 'root:x:0:\nsomeone:x:64055:\n';
    const seen = withLibvirtQemuAccount(passwd, group);
    expect(seen.passwd).toBe(`${passwd}libvirt-qemu:x:64056:64056:libvirt qemu (seen by provision's libvirtd only):/nonexistent:/usr/sbin/nologin\n`);
    expect(seen.group).toBe(`${group}libvirt-qemu:x:64056:\n`);
    const existing = `${passwd}libvirt-qemu:x:120:130::/var/lib/libvirt:/usr/sbin/nologin\n`;
    expect(withLibvirtQemuAccount(existing, `${group}libvirt-qemu:x:130:\n`).passwd).toBe(existing);
  });
});

describe('apt-get install -s against another root', () => {
  it('lists what it would unpack, upgrades included, without the architecture', () => {
    const output = [
      'NOTE: This is only a simulation!',
      'Inst sudo (1.9.13p3-1+deb12u4 Debian:12.15/oldstable [amd64])',
      'Inst perl-base [5.36.0-7+deb12u3] (5.36.0-7+deb12u4 Debian:12.15/oldstable [amd64])',
      'Inst libc6:amd64 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])',
      'Conf sudo (1.9.13p3-1+deb12u4 Debian:12.15/oldstable [amd64])',
    ].join('\n');
    expect(simulatedInstalls(output)).toEqual(['libc6', 'perl-base', 'sudo']);
  });
});
