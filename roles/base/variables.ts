// The base role's variables: defaults and types (checked when the inventory loads and before a run).
import { Type } from '@sinclair/typebox';
import { roleVariables } from '../../src/core/role-variables.ts';
import { IPV4_PATTERN } from '../../src/inventory/value-types.ts';

export const baseVariables = roleVariables({
  /** write every inventory host with an IP address into /etc/hosts */
  manage_etc_hosts: { type: Type.Boolean(), default: true },
  /** set the hostname to the inventory name */
  manage_hostname: { type: Type.Boolean(), default: true },
  /**
   * the host's default gateway, kept for boot and set now (roles/base/gateway.ts: GATEWAY= in
   * /etc/sysconfig/network on EL5-7, which EL init scripts source as root). '': a cluster director's
   * is cluster.network.gateway, any other host's is left alone; a real server's is the realserver
   * role's, which this must not contradict.
   */
  default_gateway: {
    type: Type.String({ pattern: `(?:${IPV4_PATTERN})|^$`, expected: "the default gateway's IPv4 address, e.g. 192.168.2.1 (or '' to leave GATEWAY alone)" }),
    default: '',
  },
});
