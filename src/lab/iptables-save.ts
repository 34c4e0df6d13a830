// Reading iptables-save (and ip6tables-save) output; pure. The Vagrant lab's cleanup deletes the
// tables libvirt made exist once they are empty again (src/vagrant/libvirt-host.ts), and the lab
// tests leave such tables out of their before/after snapshots.

/** Each table of an iptables-save output, by name: its lines from "*NAME" to COMMIT. */
export function savedTables(save: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of save.split('\n').map((text) => text.trim())) {
    const name = /^\*(\S+)$/.exec(line)?.[1];
    if (name !== undefined) tables.set(name, (current = []));
    current?.push(line);
    if (line === 'COMMIT') current = undefined;
  }
  return tables;
}

/**
 * Whether a table's lines hold nothing that filters or rewrites a packet: only its built-in
 * chains, each with the ACCEPT policy (counters or not), no rule and no chain of its own (a chain
 * of its own is listed as ":NAME - [0:0]").
 */
export function isEmptyTable(lines: readonly string[]): boolean {
  return lines
    .map((line) => line.trim())
    .every((line) => line === '' || line.startsWith('#') || /^\*\S+$/.test(line) || line === 'COMMIT' || /^:\S+ ACCEPT( \[\d+:\d+\])?$/.test(line));
}
