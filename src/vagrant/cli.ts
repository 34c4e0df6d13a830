// `provision vagrant box|libvirt-up|libvirt-down`: what the Vagrantfile needs from this machine for
// the libvirt provider (its triggers run libvirt-up before each machine comes up and libvirt-down
// after each is destroyed), and the box it boots. The code loads when one of them runs.
import type { Command } from 'commander';

const progress = (line: string) => process.stderr.write(`${line}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);
const collect = (value: string, previous: string[]) => [...previous, value];

export function registerVagrantCommands(program: Command): void {
  const vagrant = program.command('vagrant').description("the Vagrantfile's machines with the libvirt provider on this machine (root, Linux): the box and the isolated networks");

  vagrant
    .command('box')
    .description("build the Vagrant box provision/debian12-lab from the lab's VM image (cached by content) and add it to Vagrant (VAGRANT_HOME), for PROVISION_BOX=lab")
    .action(async () => {
      const { addLabBox, ensureLabBox, LAB_BOX_NAME } = await import('./box.ts');
      const box = await ensureLabBox(progress);
      const { added } = await addLabBox(box, process.env, progress);
      print(`${LAB_BOX_NAME} ${added ? 'added to Vagrant' : 'is in Vagrant already'} (build ${box.key}${box.built ? `, built in ${box.seconds.toFixed(0)} s` : ''}): ${box.file}`);
    });

  vagrant
    .command('libvirt-up')
    .description("start the project's libvirtd when needed, define and start the given networks isolated (no forwarding, no NAT, no DNS), add their guard routes and serve the lab's package mirror on the DHCP network")
    .requiredOption('--network <name=cidr[,dhcp]>', 'a libvirt network of the Vagrantfile (repeatable; exactly one with ,dhcp: the management network)', collect, [])
    .action(async (flags: { network: string[] }) => {
      const { parseNetworkArgument } = await import('./libvirt-config.ts');
      const { describeSubnets, libvirtUp } = await import('./libvirt-host.ts');
      const networks = flags.network.map(parseNetworkArgument);
      const result = await libvirtUp(networks, progress);
      print(`libvirt is ready: isolated networks ${networks.map((network) => network.name).join(', ')} (${describeSubnets(networks)}), package mirror on ${result.mirror}`);
    });

  vagrant
    .command('libvirt-down')
    .description('once no Vagrant machine is left: remove the networks, storage pools and volumes, libvirtd, its firewall chains and the mirror server that libvirt-up made')
    .option('--force', 'destroy the libvirt machines that are left first', false)
    .action(async (flags: { force: boolean }) => {
      const { libvirtDown } = await import('./libvirt-host.ts');
      const result = await libvirtDown({ force: flags.force, log: progress });
      if (result.remainingDomains.length > 0) print(`libvirt stays up: ${result.remainingDomains.length} machines remain (${result.remainingDomains.join(', ')})`);
      else print(result.removed ? 'libvirt is down: nothing of the Vagrant lab is left but its guard routes' : 'libvirt was not up (by provision): nothing to remove');
    });
}
