// arptables rules of DR/TUN real servers (tutorial 003): drop ARP requests for the VIP and, in
// ARP requests this host sends, replace the VIP as sender address by the host's own address. The
// shell that adds the missing rules and saves them, and the read-only check of both; pure.
//
// Chain names: arptables_jf (EL5, EL6) calls the built-in chains IN and OUT, as the tutorial
// writes; arptables 0.0.4+ (legacy) and arptables-nft call them INPUT and OUTPUT and refuse IN/OUT
// (checked with Debian 12's arptables-legacy 0.0.5 and arptables-nft 1.8.9). Neither legacy tool
// has a rule check (-C), so presence is read from `arptables -L CHAIN -n` (rules listed as
// "-j DROP -d 172.25.33.100"), and from the saved file ("-A INPUT -j DROP -d 172.25.33.100").
import { quote } from '../../src/index.ts';
import type { ArpRule } from './view.ts';

export interface ArpChains {
  input: string;
  output: string;
}

export const jfChains: ArpChains = { input: 'IN', output: 'OUT' };
export const standardChains: ArpChains = { input: 'INPUT', output: 'OUTPUT' };

interface ChainRule {
  chain: string;
  args: string[];
}

function chainRules(rules: ArpRule[], chains: ArpChains): ChainRule[] {
  return rules.flatMap(({ vip, realAddress }) => [
    { chain: chains.input, args: ['-d', vip, '-j', 'DROP'] },
    { chain: chains.output, args: ['-s', vip, '-j', 'mangle', '--mangle-ip-s', realAddress] },
  ]);
}

// An option's name stays bare (quote() would wrap "-d" in quotes); values go through quote().
const words = (args: string[]): string => args.map((arg) => (/^--?[a-z][a-z-]*$/.test(arg) ? arg : quote(arg))).join(' ');

// Reads rule lines on stdin; exits 0 when one of them has every "OPTION VALUE" pair of `want`
// (in any order, an address with or without /32).
const findRuleAwk = [
  'BEGIN { n = split(want, w, " ") }',
  '{',
  '  all = 1',
  '  for (i = 1; i < n; i += 2) {',
  '    found = 0',
  '    for (j = 1; j < NF; j++) { value = $(j + 1); sub(/\\/32$/, "", value); if ($j == w[i] && value == w[i + 1]) found = 1 }',
  '    if (!found) all = 0',
  '  }',
  '  if (all) { hit = 1; exit }',
  '}',
  'END { exit hit ? 0 : 1 }',
].join('\n');

/** Shell functions the scripts below call: arp_rule_live CHAIN ARGS..., arp_rule_saved FILE CHAIN ARGS... */
const functions = [
  `arp_find_rule() { awk -v want="$*" ${quote(findRuleAwk)}; }`,
  'arp_rule_live() { arp_chain=$1; shift; arptables -L "$arp_chain" -n 2>/dev/null | arp_find_rule "$@"; }',
  'arp_rule_saved() { arp_file=$1; arp_chain=$2; shift 2; [ -f "$arp_file" ] && grep "^-A $arp_chain " "$arp_file" | arp_find_rule "$@"; }',
].join('\n');

/** How the family keeps the rules: the command that saves them, and the file it writes. */
export interface ArpSave {
  command: string;
  file: string;
}

/** Adds the missing rules (before anything else, so a VIP is never announced), then saves them. */
export function applyRulesScript(rules: ArpRule[], chains: ArpChains, save: ArpSave): string {
  const lines = [functions];
  for (const rule of chainRules(rules, chains)) {
    lines.push(`arp_rule_live ${rule.chain} ${words(rule.args)} || arptables -A ${rule.chain} ${words(rule.args)}`);
  }
  lines.push(save.command);
  return lines.join('\n');
}

/** Succeeds when every rule is both in the running tables and in the saved file. */
export function rulesInPlaceCheck(rules: ArpRule[], chains: ArpChains, save: ArpSave): string {
  const checks = chainRules(rules, chains).flatMap((rule) => [
    `arp_rule_live ${rule.chain} ${words(rule.args)}`,
    `arp_rule_saved ${quote(save.file)} ${rule.chain} ${words(rule.args)}`,
  ]);
  return [functions, checks.join(' &&\n')].join('\n');
}
