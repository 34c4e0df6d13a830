// The addresses rules (src/cluster/lint/addresses.ts), each with its failing and passing case.
import { ADDRESS_RULES } from '../../../../src/cluster/lint/addresses.ts';
import { cases } from './addresses.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('addresses', ADDRESS_RULES, cases);
