// The forwarding rules (src/cluster/lint/forwarding.ts), each with its failing and passing case.
import { FORWARDING_RULES } from '../../../../src/cluster/lint/forwarding.ts';
import { cases } from './forwarding.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('forwarding', FORWARDING_RULES, cases);
