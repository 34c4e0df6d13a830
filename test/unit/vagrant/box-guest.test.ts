// The scripts that make the lab's VM image a Vagrant box: they parse under the shells that run
// them, and hold what Vagrant's Debian support relies on.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BOX_INIT, BOX_SETUP, boxMetadata, boxVagrantfile, VAGRANT_INSECURE_PUBLIC_KEY } from '../../../src/vagrant/box-guest.ts';

describe('the box guest', () => {
  it('BOX_SETUP parses under dash and BOX_INIT under bash', async () => {
    expect((await execa('dash', ['-n'], { input: BOX_SETUP, reject: false })).exitCode).toBe(0);
    expect((await execa('bash', ['-n'], { input: BOX_INIT, reject: false })).exitCode).toBe(0);
  });

  it("authorizes Vagrant's insecure key for the vagrant user, with password-less sudo", () => {
    expect(VAGRANT_INSECURE_PUBLIC_KEY).toMatch(/^ssh-rsa AAAA\S+ vagrant insecure public key$/);
    expect(BOX_SETUP).toContain(`'${VAGRANT_INSECURE_PUBLIC_KEY}' > /home/vagrant/.ssh/authorized_keys`);
    expect(BOX_SETUP).toContain('vagrant ALL=(ALL) NOPASSWD: ALL');
  });

  it('brings eth0 up by DHCP and knows eth1-eth3 (Vagrant restarts every interface with ifdown/ifup when it sets the name)', () => {
    expect(BOX_SETUP).toContain('iface eth0 inet dhcp');
    for (const nic of ['eth1', 'eth2', 'eth3']) expect(BOX_SETUP).toContain(`iface ${nic} inet manual`);
    expect(BOX_INIT).toContain('ifup -a');
  });

  it('points apt at the mirror on the DHCP server only (no address baked in)', () => {
    expect(BOX_SETUP).toContain(': > /etc/apt/sources.list');
    expect(BOX_SETUP).toContain('http://%s:8213/ ./');
    expect(BOX_SETUP).not.toMatch(/\b10\.213\./);
  });

  it("boots libvirt's qemu domain (TCG) with the box's own kernel and initrd", () => {
    const vagrantfile = boxVagrantfile();
    expect(vagrantfile).toContain("libvirt.driver = 'qemu'");
    expect(vagrantfile).toContain("libvirt.kernel = File.join(__dir__, 'vmlinuz')");
    expect(vagrantfile).toContain("libvirt.initrd = File.join(__dir__, 'initrd.img')");
    expect(JSON.parse(boxMetadata(2, 'abc'))).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 2, provision_box_key: 'abc' });
  });
});
