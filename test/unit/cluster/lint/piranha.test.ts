// The piranha rules (src/cluster/lint/piranha.ts), each with its failing and passing case.
import { PIRANHA_RULES } from '../../../../src/cluster/lint/piranha.ts';
import { cases } from './piranha.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('piranha', PIRANHA_RULES, cases);
