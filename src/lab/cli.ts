// `provision lab up|down|status|reset HOST`: the command line of the lab. Errors are UserErrors,
// reported by the program's own error handling.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { describeAction } from './host-actions.ts';
import type * as Lab from './lab.ts';
import type { LabHostStatus } from './lab.ts';

// The lab's code (its drivers, execa, the VM and container tools) loads when a lab command runs,
// not for `provision --help` or a playbook run.
const labModule = () => import('./lab.ts');
const labUp: typeof Lab.labUp = async (...args) => (await labModule()).labUp(...args);
const labDown: typeof Lab.labDown = async (...args) => (await labModule()).labDown(...args);
const labStatus: typeof Lab.labStatus = async (...args) => (await labModule()).labStatus(...args);
const labReset: typeof Lab.labReset = async (...args) => (await labModule()).labReset(...args);

const DEFAULT_INVENTORY = 'inventory/lab.yaml';

interface InventoryFlag {
  inventory: string;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('a lab of real hosts on this machine (network namespaces, VMs, containers) to provision and test against; needs root on Linux');
  const inventoryOption = ['-i, --inventory <file>', 'the inventory whose lab hosts (those with lab: settings) make the lab', DEFAULT_INVENTORY] as const;

  lab
    .command('up')
    .description("create the inventory's lab hosts and start them; on a lab that is up, keep the healthy hosts running and start the others again on their disks")
    .option(...inventoryOption)
    .action(async (flags: InventoryFlag) => {
      checkInventoryExists(flags.inventory);
      const result = await labUp({ inventoryFile: flags.inventory, log: progress });
      const built = [result.rootfs.built ? `rootfs built in ${result.rootfs.seconds.toFixed(0)} s` : '', result.mirror.built ? `mirror built in ${result.mirror.seconds.toFixed(0)} s` : '']
        .filter(Boolean)
        .join(', ');
      print(
        result.alreadyUp
          ? `The lab is already up (${result.hosts.length} hosts answer ssh).`
          : `The lab is up: ${result.hosts.length} hosts answer ssh (started in ${result.startSeconds.toFixed(1)} s${built ? `; ${built}` : ''}).`,
      );
      // One line per host: what lab up did to it.
      const width = Math.max(...[...result.hosts, ...result.removedHosts.map((name) => ({ name }))].map((host) => host.name.length));
      for (const host of result.hosts) {
        const address = `${host.address}${host.sshPort === 22 ? '' : `:${host.sshPort}`}`;
        const seconds = result.hostSeconds[host.name];
        const action = result.hostActions[host.name];
        const did = `${action === undefined ? '' : describeAction(action)}${seconds === undefined ? '' : `; ssh answered after ${seconds.toFixed(1)} s`}`;
        print(`  ${host.name.padEnd(width)}  ${host.kind.padEnd(9)}  ${address.padEnd(15)}  ${did}`.trimEnd());
      }
      for (const name of result.removedHosts) print(`  ${name.padEnd(width)}  removed (no longer in the inventory)`);
      const example = result.hosts[0];
      if (example) print(`Log in: ssh -i ${result.keyPath} -o UserKnownHostsFile=${result.knownHostsPath} root@${example.address}`);
      print('Tear it down: provision lab down');
    });

  lab
    .command('down')
    .description('remove every host, process, namespace, link, mount and firewall rule of the lab (also after a failed lab up)')
    .option(...inventoryOption)
    .action(async (flags: InventoryFlag) => {
      const result = await labDown({ inventoryFile: flags.inventory, log: progress });
      print(result.removed ? `The lab is down (${result.seconds.toFixed(1)} s).` : 'The lab was not up: nothing to remove.');
    });

  lab
    .command('status')
    .description('list the lab hosts and whether their ssh answers')
    .option(...inventoryOption)
    .action(async () => {
      const hosts = await labStatus({});
      if (hosts === undefined) throw new UserError('the lab is not up', {}, (await labModule()).NOT_UP_HINT);
      printStatus(hosts);
      const silent = hosts.filter((host) => host.sshBanner === undefined);
      if (silent.length > 0) {
        throw new UserError(
          `${silent.length} of ${hosts.length} lab hosts do not answer ssh: ${silent.map((host) => host.name).join(', ')}`,
          {},
          "reset one with 'provision lab reset HOST', or rebuild the lab with 'provision lab down' then 'provision lab up'",
        );
      }
    });

  lab
    .command('reset')
    .argument('<hosts...>', 'the lab hosts to reset')
    .description("throw hosts' changes away (a fresh copy of the rootfs each, in parallel) without touching the others")
    .option(...inventoryOption)
    .action(async (hosts: string[]) => {
      const result = await labReset({ host: hosts, log: progress });
      print(`${hosts.join(', ')} ${hosts.length === 1 ? 'is' : 'are'} reset (${result.seconds.toFixed(1)} s).`);
    });
}

function printStatus(hosts: readonly LabHostStatus[]): void {
  const width = Math.max(4, ...hosts.map((host) => host.name.length));
  print(`${'HOST'.padEnd(width)}  KIND       ADDRESS          STATE    SSH`);
  for (const host of hosts) {
    const address = `${host.address}${host.sshPort === 22 ? '' : `:${host.sshPort}`}`;
    const ssh = host.sshBanner ?? 'no answer';
    print(`${host.name.padEnd(width)}  ${host.kind.padEnd(9)}  ${address.padEnd(15)}  ${(host.running ? 'running' : 'stopped').padEnd(7)}  ${ssh}`);
  }
}

function checkInventoryExists(file: string): void {
  if (!existsSync(file)) throw new UserError(`inventory file not found: ${file}`, {}, 'give one with --inventory FILE');
}
