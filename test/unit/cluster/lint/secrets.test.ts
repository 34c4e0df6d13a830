// The secrets rules (src/cluster/lint/secrets.ts), each with its failing and passing case.
import { SECRET_RULES } from '../../../../src/cluster/lint/secrets.ts';
import { cases } from './secrets.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('secrets', SECRET_RULES, cases);
