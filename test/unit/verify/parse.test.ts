// The parsers of what verify reads from hosts, on the output real programs printed.
import { describe, expect, it } from 'vitest';
import { parseIpvsRules } from '../../../src/verify/parse.ts';

describe('parseIpvsRules', () => {
  it("reads a tunnelling table printed by Debian 12's ipvsadm 1.31 like one printed by an older ipvsadm", () => {
    // `ipvsadm -Sn` on a lab director of lab-cluster/tun.test.ts (ipvsadm 1.31, kernel 6.1).
    const printed = ['-A -t 10.213.2.254:80 -s wrr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -i -w 1 --tun-type ipip', '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -i -w 1 --tun-type ipip', ''].join('\n');
    expect(parseIpvsRules(printed)).toEqual(['-A -t 10.213.2.254:80 -s wrr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -i -w 1', '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -i -w 1']);
  });

  it('keeps a tunnel type other than the default, and normalizes blanks', () => {
    expect(parseIpvsRules('-a  -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080\n')).toEqual([
      '-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080',
    ]);
  });
});
