// The host kinds this build of the lab can create. A kind without a driver here is refused by
// `lab up` with a clear message. VM (qemu) and container (dockerd) drivers plug in here.
import type { LabHostDriver } from './driver.ts';
import { namespaceDriver } from './namespace-host.ts';
import type { DriverRegistry } from './release.ts';
import type { LabKind } from './settings.ts';

export const LAB_DRIVERS: DriverRegistry = new Map<LabKind, LabHostDriver>([[namespaceDriver.kind, namespaceDriver]]);
