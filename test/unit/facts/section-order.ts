// The order in which the facts script prints its sections, for each of its two ways of listing
// interfaces: the fixtures and the real runs are both checked against it.
import { alwaysPrintedSections, factSections } from '../../../src/facts/script.ts';

export const sectionOrders = {
  ip: [...alwaysPrintedSections, factSections.ipLink, factSections.ipAddr],
  ifconfig: [...alwaysPrintedSections, factSections.ifconfig],
};
