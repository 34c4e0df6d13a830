import { describe, expect, it } from 'vitest';
import { interfacesFromIp, parseIfconfig, parseIpAddr, parseIpLink, prefixLength } from '../../../src/facts/interfaces.ts';

describe('parseIpLink', () => {
  it('names each link without its @peer and keeps only ethernet MACs, lowercased', () => {
    const text = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 5E:2B:A0:91:C4:0D brd ff:ff:ff:ff:ff:ff link-netnsid 0',
      '3: enp3s0.100@enp3s0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3c:ec:ef:10:22:4a brd ff:ff:ff:ff:ff:ff',
      '4: sit0: <NOARP> mtu 1480 qdisc noop \\    link/sit 0.0.0.0 brd 0.0.0.0',
      '5: tun0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 500\\    link/none ',
      '6: ens3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode DEFAULT group default qlen 1000\\    link/ether fa:16:3e:7d:02:c9 brd ff:ff:ff:ff:ff:ff\\    altname enp0s3',
      '',
    ].join('\n');
    expect(parseIpLink(text)).toEqual([
      { name: 'lo' },
      { name: 'eth0', mac: '5e:2b:a0:91:c4:0d' },
      { name: 'enp3s0.100', mac: '3c:ec:ef:10:22:4a' },
      { name: 'sit0' },
      { name: 'tun0' },
      { name: 'ens3', mac: 'fa:16:3e:7d:02:c9' },
    ]);
  });
});

describe('parseIpAddr', () => {
  it('gives each address in CIDR form to its device, labels and peers included', () => {
    const text = [
      '1: lo    inet 127.0.0.1/8 scope host lo',
      '1: lo    inet 192.168.2.100/32 scope global lo:0\\       valid_lft forever preferred_lft forever',
      '1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 192.168.2.100/24 brd 192.168.2.255 scope global secondary eth0:0',
      '2: eth0    inet6 FE80::5054:FF:FE12:3456/64 scope link \\       valid_lft forever preferred_lft forever',
      '4: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\\       valid_lft forever preferred_lft forever',
      '5: gre1    inet6 fd00::1 peer fd00::2/128 scope global \\       valid_lft forever preferred_lft forever',
    ].join('\n');
    expect(parseIpAddr(text)).toEqual([
      { device: 'lo', cidr: '127.0.0.1/8' },
      { device: 'lo', cidr: '192.168.2.100/32' },
      { device: 'lo', cidr: '::1/128' },
      { device: 'eth0', cidr: '192.168.2.100/24' },
      { device: 'eth0', cidr: 'fe80::5054:ff:fe12:3456/64' },
      { device: 'tun0', cidr: '10.8.0.1/32' },
      { device: 'gre1', cidr: 'fd00::1/128' },
    ]);
  });
});

describe('interfacesFromIp', () => {
  it('lists every link in ip order, with or without addresses, and each address once', () => {
    const link = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
      '2: ifb0: <BROADCAST,NOARP> mtu 1500 qdisc noop qlen 32\\    link/ether 32:dc:78:d7:f2:a1 brd ff:ff:ff:ff:ff:ff',
      '3: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 qdisc pfifo_fast qlen 1000\\    link/ether 02:fc:00:00:00:01 brd ff:ff:ff:ff:ff:ff',
    ].join('\n');
    const addr = [
      '3: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '3: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '3: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever',
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      // a link that appeared between the two commands still counts
      '9: dummy0    inet 10.9.9.9/32 scope global dummy0\\       valid_lft forever preferred_lft forever',
    ].join('\n');
    expect(interfacesFromIp(link, addr)).toEqual([
      { name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: [] },
      { name: 'ifb0', mac: '32:dc:78:d7:f2:a1', ipv4: [], ipv6: [] },
      { name: 'eth0', mac: '02:fc:00:00:00:01', ipv4: ['192.0.2.2/24'], ipv6: ['fe80::fc:ff:fe00:1/64'] },
      { name: 'dummy0', ipv4: ['10.9.9.9/32'], ipv6: [] },
    ]);
  });

  it('is empty for empty output', () => {
    expect(interfacesFromIp('', '')).toEqual([]);
  });
});

describe('parseIfconfig', () => {
  it('reads net-tools 1.60 (EL5/6): aliases join their device, point-to-point and tunnels have no MAC', () => {
    const text = `eth0      Link encap:Ethernet  HWaddr 00:0C:29:3E:5A:B1  
          inet addr:192.168.2.250  Bcast:192.168.2.255  Mask:255.255.255.0
          inet6 addr: fe80::20c:29ff:fe3e:5ab1/64 Scope:Link
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
          RX packets:1234 errors:0 dropped:0 overruns:0 frame:0
          TX packets:567 errors:0 dropped:0 overruns:0 carrier:0
          collisions:0 txqueuelen:1000 
          RX bytes:123456 (120.5 KiB)  TX bytes:65432 (63.8 KiB)
          Interrupt:11 Base address:0xc000 

eth0:0    Link encap:Ethernet  HWaddr 00:0C:29:3E:5A:B1  
          inet addr:192.168.2.100  Bcast:192.168.2.100  Mask:255.255.255.255
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
          Interrupt:11 Base address:0xc000 

lo        Link encap:Local Loopback  
          inet addr:127.0.0.1  Mask:255.0.0.0
          inet6 addr: ::1/128 Scope:Host
          UP LOOPBACK RUNNING  MTU:16436  Metric:1

tun0      Link encap:UNSPEC  HWaddr 00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00  
          inet addr:10.8.0.1  P-t-P:10.8.0.2  Mask:255.255.255.255
          UP POINTOPOINT RUNNING NOARP MULTICAST  MTU:1500  Metric:1

sit0      Link encap:IPv6-in-IPv4  
          NOARP  MTU:1480  Metric:1

`;
    expect(parseIfconfig(text)).toEqual([
      { name: 'eth0', mac: '00:0c:29:3e:5a:b1', ipv4: ['192.168.2.250/24', '192.168.2.100/32'], ipv6: ['fe80::20c:29ff:fe3e:5ab1/64'] },
      { name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: ['::1/128'] },
      { name: 'tun0', ipv4: ['10.8.0.1/32'], ipv6: [] },
      { name: 'sit0', ipv4: [], ipv6: [] },
    ]);
  });

  it('reads net-tools 2.x (EL7+, Debian)', () => {
    const text = `eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1400
        inet 192.0.2.2  netmask 255.255.255.0  broadcast 192.0.2.255
        inet6 fe80::fc:ff:fe00:1  prefixlen 64  scopeid 0x20<link>
        inet6 fd00::2  prefixlen 64  scopeid 0x0<global>
        ether 02:fc:00:00:00:01  txqueuelen 1000  (Ethernet)
        RX packets 7038  bytes 224711405 (214.3 MiB)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 4638  bytes 587186 (573.4 KiB)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

eth0:0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1400
        inet 192.0.2.100  netmask 255.255.255.128  broadcast 192.0.2.127
        ether 02:fc:00:00:00:01  txqueuelen 1000  (Ethernet)

ifb0: flags=130<BROADCAST,NOARP>  mtu 1500
        ether 32:dc:78:d7:f2:a1  txqueuelen 32  (Ethernet)
        RX packets 0  bytes 0 (0.0 B)

lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        inet6 ::1  prefixlen 128  scopeid 0x10<host>
        loop  txqueuelen 1000  (Local Loopback)

tun0: flags=4305<UP,POINTOPOINT,RUNNING,NOARP,MULTICAST>  mtu 1500
        inet 10.8.0.1  netmask 255.255.255.255  destination 10.8.0.2
        unspec 00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00  txqueuelen 500  (UNSPEC)

`;
    expect(parseIfconfig(text)).toEqual([
      { name: 'eth0', mac: '02:fc:00:00:00:01', ipv4: ['192.0.2.2/24', '192.0.2.100/25'], ipv6: ['fe80::fc:ff:fe00:1/64', 'fd00::2/64'] },
      { name: 'ifb0', mac: '32:dc:78:d7:f2:a1', ipv4: [], ipv6: [] },
      { name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: ['::1/128'] },
      { name: 'tun0', ipv4: ['10.8.0.1/32'], ipv6: [] },
    ]);
  });

  it('reads busybox ifconfig, which uses the old format with upper-case MACs', () => {
    const text = `eth0      Link encap:Ethernet  HWaddr 02:FC:00:00:00:01  
          inet addr:192.0.2.2  Bcast:192.0.2.255  Mask:255.255.255.0
          inet6 addr: fe80::fc:ff:fe00:1/64 Scope:Link
          inet6 addr: fd00::2/64 Scope:Global
          UP BROADCAST RUNNING MULTICAST  MTU:1400  Metric:1
          RX packets:7038 errors:0 dropped:0 overruns:0 frame:0
          collisions:0 txqueuelen:1000 
          RX bytes:224711405 (214.3 MiB)  TX bytes:587186 (573.4 KiB)

lo        Link encap:Local Loopback  
          inet addr:127.0.0.1  Mask:255.0.0.0
          inet6 addr: ::1/128 Scope:Host
          UP LOOPBACK RUNNING  MTU:65536  Metric:1

`;
    expect(parseIfconfig(text)).toEqual([
      { name: 'eth0', mac: '02:fc:00:00:00:01', ipv4: ['192.0.2.2/24'], ipv6: ['fe80::fc:ff:fe00:1/64', 'fd00::2/64'] },
      { name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: ['::1/128'] },
    ]);
  });

  it('is empty for empty output', () => {
    expect(parseIfconfig('')).toEqual([]);
  });
});

describe('prefixLength', () => {
  it.each([
    ['255.255.255.255', 32],
    ['255.255.255.0', 24],
    ['255.255.255.128', 25],
    ['255.255.240.0', 20],
    ['255.0.0.0', 8],
    ['0.0.0.0', 0],
  ])('%s -> /%d', (mask, length) => expect(prefixLength(mask)).toBe(length));
});
