// The base role's variables: defaults and types (checked when the inventory loads and before a run).
import { Type } from '@sinclair/typebox';
import { roleVariables } from '../../src/core/role-variables.ts';
import { IPV4_PATTERN } from '../../src/inventory/value-types.ts';

export const baseVariables = roleVariables({
  /** write every inventory host with an IP address into /etc/hosts */
  manage_etc_hosts: { type: Type.Boolean(), default: true },
  /** set the hostname to the inventory name */
  manage_hostname: { type: Type.Boolean(), default: true },
  /** EL5/6: GATEWAY= in /etc/sysconfig/network ('' leaves it alone); EL init scripts source that file as root */
  default_gateway: {
    type: Type.String({ pattern: `(?:${IPV4_PATTERN})|^$`, expected: "the default gateway's IPv4 address, e.g. 192.168.2.1 (or '' to leave GATEWAY alone)" }),
    default: '',
  },
});
