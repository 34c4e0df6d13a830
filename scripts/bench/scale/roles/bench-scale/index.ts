// The scale bench's own tasks: one of each kind a namespace host supports without packages.
import { defineRole, ops } from '../../../../../src/index.ts';

export default defineRole({
  name: 'bench-scale',
  defaults: {},
  tasks: ({ host }) => [
    { name: 'directory /etc/provision-bench', op: ops.directory({ path: '/etc/provision-bench', mode: '0755' }) },
    { name: 'a file naming the host', op: ops.file({ path: '/etc/provision-bench/host.conf', content: `name=${host.name}\naddress=${host.address}\n`, mode: '0644' }) },
    { name: 'a line in /etc/default/provision-bench', op: ops.shellVar({ path: '/etc/default/provision-bench', name: 'BENCH', value: 'on', create: true }) },
    { name: 'a kernel parameter of the host network namespace', op: ops.sysctl({ name: 'net.ipv4.conf.all.arp_ignore', value: 1 }) },
    { name: 'a command, once', op: ops.command({ run: 'date > /etc/provision-bench/stamp', creates: '/etc/provision-bench/stamp' }) },
  ],
});
