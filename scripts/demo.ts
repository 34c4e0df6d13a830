// `npm run demo`: the main job on the built-in local lab, proven. `provision test --keep` brings the
// lab up (real hosts on this machine), provisions inventory/lab.yaml with playbooks/site.yml, runs it
// again to show it changes nothing, verifies the live cluster (provision verify) and drills it (a
// real server stops, the active director's heartbeat stops: measured failover and failback); the
// lab stays up. Then the cluster at work: requests from the client to the VIP, answered in turn by
// each real server (its index page names it), and how to look around. Needs root on Linux (the lab
// uses network namespaces and qemu VMs).
//
// zx runs this machine's own commands here (ssh to the client); src/ runs its commands with execa.
import { setTimeout as sleep } from 'node:timers/promises';
import { $ } from 'zx';
import { main } from '../src/cli/main.ts';
import { loadInventory } from '../src/inventory/load.ts';
import { labKeyPath, labKnownHostsPath } from '../src/lab/paths.ts';
import { exportLabSecrets } from '../src/lab/secrets.ts';

const inventoryFile = 'inventory/lab.yaml';
const REQUESTS = 6;
// heartbeat's initdead and ldirectord's first checks, on emulated directors: about a minute.
const READY_TIMEOUT_MS = 180_000;
const step = (text: string) => process.stdout.write(`\n==> ${text}\n`);

// inventory/lab.yaml reads the heartbeat key with !env HA_AUTH_KEY: the lab keeps one for itself.
exportLabSecrets();
step(`provision test --keep --inventory ${inventoryFile}`);
const code = await main(['test', '--keep', '--inventory', inventoryFile]);
if (code !== 0) process.exit(code);

// Where to send the requests from and to: the inventory's client and its first virtual service.
const inventory = await loadInventory(inventoryFile);
const clientName = inventory.groups.get('clients')?.hosts[0];
const client = clientName === undefined ? undefined : inventory.hosts.get(clientName)?.address;
const service = inventory.cluster?.virtual_services[0];
if (client === undefined || service === undefined) throw new Error(`${inventoryFile} has no client (group clients) or no virtual service`);
const url = `http://${service.vip}${service.port === undefined || service.port === 80 ? '' : `:${service.port}`}/`;

const sshOptions = ['-i', labKeyPath(), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${labKnownHostsPath()}`, '-o', 'GlobalKnownHostsFile=/dev/null'];
/** `count` requests from the client to the VIP, each on a connection of its own: the answers, one per request ('' for none). */
async function requests(count: number): Promise<string[]> {
  const loop = `for i in $(seq ${count}); do curl -s -m 3 ${url} || echo; done`;
  const { stdout } = await $`ssh ${sshOptions} root@${client} ${loop}`;
  return stdout.split('\n').slice(0, count).map((line) => line.trim());
}

step(`${REQUESTS} requests from the client (${client}) to the VIP: curl -s ${url}`);
// Right after the first run heartbeat is still bringing the VIP up and ldirectord has not yet put
// the real servers in: wait (bounded) until two requests in a row reach two different servers.
const deadline = Date.now() + READY_TIMEOUT_MS;
let probe = await requests(2);
while (!(probe.every(Boolean) && new Set(probe).size === 2) && Date.now() < deadline) {
  await sleep(2_000);
  probe = await requests(2);
}
const answers = await requests(REQUESTS);
answers.forEach((answer, i) => process.stdout.write(`  ${i + 1}  ${answer || '(no answer)'}\n`));
const alternating = answers.every((answer, i) => answer !== '' && answer !== answers[i - 1]);
process.stdout.write(alternating ? `  Each request went to the other real server (scheduler ${service.scheduler}, LVS-${service.forwarding.toUpperCase()}).\n` : '  The answers do not alternate: see ipvsadm -Ln on the directors.\n');

step('Look around');
const ssh = `ssh -i ${labKeyPath()} -o UserKnownHostsFile=${labKnownHostsPath()}`;
process.stdout.write(
  [
    `  ${ssh} root@10.213.2.250          # log in to lvs-master`,
    `  ${ssh} root@10.213.2.250 cat /etc/hosts`,
    `  ${ssh} root@10.213.2.250 ipvsadm -Ln     # the directors are VMs: IPVS runs in their own kernel`,
    `  curl -s ${url}                 # through the VIP (this machine is on the lab bridge)`,
    `  npx provision --inventory ${inventoryFile} --check --diff   # a second run: nothing to change`,
    `  npx provision verify --inventory ${inventoryFile}          # every check of the live cluster, -v for the evidence`,
    '  npx provision lab status                      # hosts and whether ssh answers',
    '  npx provision lab down                        # remove the lab and everything it made',
    '',
    `Running provision yourself: export HA_AUTH_KEY=$(cat ${labKeyPath().replace(/id_ed25519$/, 'secrets/HA_AUTH_KEY')})`,
    '',
  ].join('\n'),
);
process.exit(alternating ? 0 : 1);
