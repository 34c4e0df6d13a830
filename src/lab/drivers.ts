// The host kinds the lab can create, each with its driver. A kind without a driver here is refused
// by `lab up` with a clear message.
import { containerDriver } from './container-host.ts';
import type { LabHostDriver } from './driver.ts';
import { namespaceDriver } from './namespace-host.ts';
import type { DriverRegistry } from './release.ts';
import type { LabKind } from './settings.ts';
import { vmDriver } from './vm-host.ts';

export const LAB_DRIVERS: DriverRegistry = new Map<LabKind, LabHostDriver>([
  [namespaceDriver.kind, namespaceDriver],
  [vmDriver.kind, vmDriver],
  [containerDriver.kind, containerDriver],
]);
