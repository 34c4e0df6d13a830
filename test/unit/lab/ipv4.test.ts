import { describe, expect, it } from 'vitest';
import { bridgeAddress, broadcastAddress, formatAddress, formatSubnet, overlaps, parseAddress, parseCidr, subnetOf } from '../../../src/lab/ipv4.ts';

describe('IPv4 arithmetic', () => {
  it('parses and formats dotted quads, refusing anything else', () => {
    expect(formatAddress(parseAddress('10.213.2.250')!)).toBe('10.213.2.250');
    expect(parseAddress('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['256.1.1.1', '10.213.2', '10.213.2.1.5', 'a.b.c.d', ' 10.0.0.1', '']) expect(parseAddress(bad)).toBeUndefined();
    expect(parseCidr('10.213.2.250/24')).toEqual({ address: parseAddress('10.213.2.250'), prefix: 24 });
    for (const bad of ['10.213.2.250', '10.213.2.250/33', '10.213.2.250/', '10.213.2.250/2a']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('derives the subnet, its bridge (.1) and broadcast addresses', () => {
    const subnet = subnetOf(parseAddress('10.213.2.250')!, 24);
    expect(formatSubnet(subnet)).toBe('10.213.2.0/24');
    expect(formatAddress(bridgeAddress(subnet))).toBe('10.213.2.1');
    expect(formatAddress(broadcastAddress(subnet))).toBe('10.213.2.255');
    const wide = subnetOf(parseAddress('10.213.17.9')!, 20);
    expect(formatSubnet(wide)).toBe('10.213.16.0/20');
    expect(formatAddress(broadcastAddress(wide))).toBe('10.213.31.255');
    expect(formatSubnet(subnetOf(parseAddress('200.1.2.3')!, 0))).toBe('0.0.0.0/0');
  });

  it('tells overlapping subnets apart from neighbours', () => {
    const at = (cidr: string) => {
      const parsed = parseCidr(cidr)!;
      return subnetOf(parsed.address, parsed.prefix);
    };
    expect(overlaps(at('10.213.2.0/24'), at('10.213.0.0/16'))).toBe(true);
    expect(overlaps(at('10.213.0.0/16'), at('10.213.2.0/24'))).toBe(true);
    expect(overlaps(at('10.213.2.0/24'), at('10.213.1.0/24'))).toBe(false);
    expect(overlaps(at('10.213.2.0/24'), at('10.213.2.7/32'))).toBe(true);
    expect(overlaps(at('192.168.0.0/16'), at('10.213.2.0/24'))).toBe(false);
  });
});
