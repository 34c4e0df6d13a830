import { describe, expect, it } from 'vitest';
import { parseCidr, subnetOf } from '../../../src/lab/ipv4.ts';
import { FIREWALL_COMMENT, firewallOpeningsFor, guardRouteArgs, splitRule } from '../../../src/lab/network.ts';
import type { LabBridge } from '../../../src/lab/settings.ts';

const bridge = (name: string, cidr: string): LabBridge => {
  const parsed = parseCidr(cidr)!;
  return { name, subnet: subnetOf(parsed.address, parsed.prefix), address: cidr.replace(/\.0\/\d+$/, '.1') };
};
const bridges = [bridge('pvlab-br0', '10.213.2.0/24'), bridge('pvlab-br1', '10.213.1.0/24')];

describe("the lab's network on the machine", () => {
  it('guards a whole subnet with an unreachable route below every real route', () => {
    expect(guardRouteArgs(bridges[0]!.subnet)).toEqual(['unreachable', '10.213.2.0/24', 'metric', '4000']);
  });

  it('opens nothing in a firewall that accepts by default', () => {
    expect(firewallOpeningsFor({ bridgedToIptables: true, forwardPolicy: 'ACCEPT', inputPolicy: 'ACCEPT' }, bridges, 8213)).toEqual([]);
    // Bridged frames skip iptables without br_netfilter, whatever FORWARD says.
    expect(firewallOpeningsFor({ bridgedToIptables: false, forwardPolicy: 'DROP', inputPolicy: 'ACCEPT' }, bridges, 8213)).toEqual([]);
  });

  it('lets bridged lab traffic through a FORWARD chain that drops (dockerd), per bridge, with the lab comment', () => {
    const openings = firewallOpeningsFor({ bridgedToIptables: true, forwardPolicy: 'DROP', inputPolicy: 'ACCEPT' }, bridges, 8213);
    expect(openings.map((rule) => [rule.chain, rule.rule.join(' ')])).toEqual([
      ['FORWARD', `-i pvlab-br0 -o pvlab-br0 -m comment --comment ${FIREWALL_COMMENT} -j ACCEPT`],
      ['FORWARD', `-i pvlab-br1 -o pvlab-br1 -m comment --comment ${FIREWALL_COMMENT} -j ACCEPT`],
    ]);
  });

  it("opens only the mirror's port on the bridges when INPUT drops", () => {
    const openings = firewallOpeningsFor({ bridgedToIptables: false, inputPolicy: 'DROP' }, bridges.slice(0, 1), 8213);
    expect(openings).toEqual([
      { type: 'iptables', table: 'filter', chain: 'INPUT', rule: ['-i', 'pvlab-br0', '-p', 'tcp', '--dport', '8213', '-m', 'comment', '--comment', FIREWALL_COMMENT, '-j', 'ACCEPT'] },
    ]);
  });

  it('reads iptables -S lines back into the words that delete them', () => {
    expect(splitRule(`-A FORWARD -i pvlab-br0 -o pvlab-br0 -m comment --comment "${FIREWALL_COMMENT}" -j ACCEPT`)).toEqual([
      '-A',
      'FORWARD',
      '-i',
      'pvlab-br0',
      '-o',
      'pvlab-br0',
      '-m',
      'comment',
      '--comment',
      FIREWALL_COMMENT,
      '-j',
      'ACCEPT',
    ]);
  });
});
