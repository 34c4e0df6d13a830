// The virtual-services rules (src/cluster/lint/virtual-services.ts), each with its failing and passing case.
import { VIRTUAL_SERVICE_RULES } from '../../../../src/cluster/lint/virtual-services.ts';
import { cases } from './virtual-services.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

describeRuleCases('virtual-services', VIRTUAL_SERVICE_RULES, cases);
