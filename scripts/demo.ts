// `npm run demo`: the main job on the built-in local lab. Brings the lab up (real hosts on this
// machine), provisions inventory/lab.yaml with playbooks/site.yml, and says how to look around.
// Needs root on Linux (the lab uses network namespaces and qemu VMs).
import { main } from '../src/cli/main.ts';
import { labKeyPath, labKnownHostsPath } from '../src/lab/paths.ts';
import { exportLabSecrets } from '../src/lab/secrets.ts';

const inventory = 'inventory/lab.yaml';
const step = (text: string) => process.stdout.write(`\n==> ${text}\n`);

// inventory/lab.yaml reads the heartbeat key with !env HA_AUTH_KEY: the lab keeps one for itself.
exportLabSecrets();
step(`provision lab up --inventory ${inventory}`);
let code = await main(['lab', 'up', '--inventory', inventory]);
if (code !== 0) process.exit(code);

step(`provision --inventory ${inventory} playbooks/site.yml`);
code = await main(['--inventory', inventory, 'playbooks/site.yml']);

step('Look around');
const ssh = `ssh -i ${labKeyPath()} -o UserKnownHostsFile=${labKnownHostsPath()}`;
process.stdout.write(
  [
    `  ${ssh} root@10.213.2.250          # log in to lvs-master`,
    `  ${ssh} root@10.213.2.250 cat /etc/hosts`,
    `  ${ssh} root@10.213.2.250 ipvsadm -Ln     # the directors are VMs: IPVS runs in their own kernel`,
    '  curl -s http://10.213.2.254/.testpage        # through the VIP (this machine is on the lab bridge)',
    `  npx provision --inventory ${inventory} --check --diff   # a second run: nothing to change`,
    '  npx provision lab status                      # hosts and whether ssh answers',
    '  npx provision lab down                        # remove the lab and everything it made',
    '',
    `Running provision yourself: export HA_AUTH_KEY=$(cat ${labKeyPath().replace(/id_ed25519$/, 'secrets/HA_AUTH_KEY')})`,
    '',
  ].join('\n'),
);
process.exit(code);
