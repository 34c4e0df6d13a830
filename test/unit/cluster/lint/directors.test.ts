// The directors rules (src/cluster/lint/directors.ts), each with its failing and passing case.
import { DIRECTOR_RULES } from '../../../../src/cluster/lint/directors.ts';
import { cases } from './directors.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('directors', DIRECTOR_RULES, cases);
