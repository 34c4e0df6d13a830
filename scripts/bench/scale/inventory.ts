// The scale lab: N namespace hosts (sshd only) on one subnet of their own, named s001, s002, ...,
// with a group per bench size (n1, n10, n50, n100: the first N hosts) for --limit.
export const SCALE_SUBNET = '10.213.8';
/** The first host's last octet: .1 is the machine's side of the bridge. */
const FIRST_OCTET = 11;
export const MAX_SCALE_HOSTS = 254 - FIRST_OCTET;

export function scaleHostName(i: number): string {
  return `s${String(i + 1).padStart(3, '0')}`;
}

export function scaleHostAddress(i: number): string {
  return `${SCALE_SUBNET}.${FIRST_OCTET + i}`;
}

/** The inventory of `count` namespace hosts, with a group nK for each size K of `sizes`. */
export function scaleInventory(count: number, sizes: readonly number[] = []): string {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SCALE_HOSTS) throw new Error(`the scale lab holds 1 to ${MAX_SCALE_HOSTS} hosts, not ${count}`);
  const lines = ['# The scale lab, written by scripts/bench/scale/inventory.ts.', 'all:', '  hosts:'];
  for (let i = 0; i < count; i++) lines.push(`    ${scaleHostName(i)}: { address: ${scaleHostAddress(i)}, lab: { kind: namespace } }`);
  const groups = [...new Set(sizes)].filter((size) => size >= 1 && size <= count);
  if (groups.length > 0) {
    lines.push('  children:');
    for (const size of groups) {
      lines.push(`    n${size}:`, '      hosts:');
      for (let i = 0; i < size; i++) lines.push(`        ${scaleHostName(i)}:`);
    }
  }
  return `${lines.join('\n')}\n`;
}
