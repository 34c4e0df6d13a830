// The realserver role's variables: defaults and types (checked when the inventory loads and before a run).
import { Type } from '@sinclair/typebox';
import { roleVariables } from '../../src/core/role-variables.ts';
import { StringEnum } from '../../src/inventory/validate.ts';
import { PageLine } from '../../src/inventory/value-types.ts';

/**
 * native: the family's own network configuration where it can hold a VIP on a loopback alias
 * (ifcfg-lo:N on EL5-EL7, /etc/network/interfaces.d on Debian), the realserver script for the rest
 * (TUN, every VIP on EL8/EL9, whose NetworkManager ignores ifcfg aliases, and on Ubuntu, whose
 * netplan flushes lo when it applies). init-script: the tutorials' /etc/init.d/realserver for every
 * VIP, on every family. Either way the default gateway is kept as roles/base/gateway.ts keeps every
 * host's (GATEWAY= on EL5-EL7, /etc/init.d/default-gateway elsewhere).
 */
export const BOOT_METHODS = ['native', 'init-script'] as const;
export type BootMethod = (typeof BOOT_METHODS)[number];

export const realserverVariables = roleVariables({
  boot_method: { type: StringEnum(BOOT_METHODS, { expected: 'native or init-script' }), default: 'native' as BootMethod },
  /**
   * Write the site's index page (index.html in the document root) with a line naming this real
   * server, as the tutorials do: each answer through the VIP then says which real server sent it.
   * Not where a health check reads that page (its request is / or index.html): its text is the
   * check's. false leaves the site's own index page alone.
   */
  manage_index_page: { type: Type.Boolean(), default: true },
  /** the index page's line; '' is the host's inventory name (web1) */
  index_page: { type: PageLine, default: '' },
});
