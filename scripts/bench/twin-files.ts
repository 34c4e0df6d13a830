// Writes the Ansible twin of a playbook for the hosts of an inventory (ansible-twin.ts) into a
// directory: the hosts' facts gathered with our own facts script (the twin is written for the hosts
// as they are), the ssh wrappers that count Ansible's remote executions per host, its inventory,
// ansible.cfg and playbook.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Facts } from '../../src/core/facts.ts';
import { createConnector } from '../../src/connectors/index.ts';
import { factsScript } from '../../src/facts/script.ts';
import { parseFacts } from '../../src/facts/parse.ts';
import type { Inventory, InventoryHost } from '../../src/inventory/model.ts';
import { withLabCredentials } from '../../src/lab/connection.ts';
import type { Playbook } from '../../src/playbook/model.ts';
import { ansibleTwin, type TwinHost } from './ansible-twin.ts';
import { planTwin } from './twin-plan.ts';

export interface WrittenTwin {
  dir: string;
  /** ansible.cfg, for ANSIBLE_CONFIG */
  config: string;
  playbook: string;
  /** one line per ssh, sftp or scp invocation: the program, then its arguments separated by tabs */
  invocationLog: string;
}

/** Facts of each host, gathered as our runner gathers them (one execution per host). */
export async function gatherFacts(hosts: readonly InventoryHost[]): Promise<Map<string, Facts>> {
  const entries = await Promise.all(
    hosts.map(async (host) => {
      const connector = createConnector(withLabCredentials(host));
      try {
        await connector.connect();
        const result = await connector.run(factsScript());
        if (result.exitCode !== 0) throw new Error(`gathering the facts of ${host.name} failed (exit ${result.exitCode}): ${result.stderr}`);
        return [host.name, parseFacts(result.stdout)] as const;
      } finally {
        await connector.close();
      }
    }),
  );
  return new Map(entries);
}

export function twinHost(host: InventoryHost): TwinHost {
  const lab = withLabCredentials(host);
  return {
    name: host.name,
    address: lab.address,
    port: lab.port,
    user: lab.user,
    ...(lab.key === undefined ? {} : { key: lab.key }),
    ...(lab.ssh.knownHosts === undefined ? {} : { knownHosts: lab.ssh.knownHosts }),
    hostKeyChecking: lab.ssh.hostKeyChecking,
  };
}

/** A program that logs its name and arguments, then runs the real one (ssh, sftp, scp). */
function countingWrapper(program: string, log: string): string {
  return `#!/bin/sh
# Written by the bench: notes this invocation as one line (the bench counts them per host), then
# runs ${program}.
line=$( { printf '%s' ${program}; for a in "$@"; do printf '\\t%.200s' "$a"; done; } | tr '\\n\\r' '  ')
printf '%s\\n' "$line" >> '${log}'
exec /usr/bin/${program} "$@"
`;
}

export async function writeTwin(
  dir: string,
  inputs: { inventory: Inventory; playbook: Playbook; hosts: readonly InventoryHost[]; facts: ReadonlyMap<string, Facts>; forks: number; strategy: 'linear' | 'free' },
): Promise<WrittenTwin> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'cp'), { recursive: true, mode: 0o700 });
  const invocationLog = path.join(dir, 'invocations.log');
  const executables = { ssh: path.join(dir, 'bin/ssh'), sftp: path.join(dir, 'bin/sftp'), scp: path.join(dir, 'bin/scp') };
  for (const [program, file] of Object.entries(executables)) {
    await writeFile(file, countingWrapper(program, invocationLog));
    await chmod(file, 0o755);
  }
  const plan = await planTwin(inputs.inventory, inputs.playbook, inputs.facts);
  const groups = new Map([...inputs.inventory.groups.values()].map((group) => [group.name, group.hosts] as const));
  const twin = ansibleTwin(plan, {
    hosts: inputs.hosts.map(twinHost),
    groups,
    forks: inputs.forks,
    strategy: inputs.strategy,
    controlPathDir: path.join(dir, 'cp'),
    executables,
    python: '/usr/bin/python3',
  });
  for (const [name, content] of twin.files) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return { dir, config: path.join(dir, 'ansible.cfg'), playbook: path.join(dir, 'site.yml'), invocationLog };
}
