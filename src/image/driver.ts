/**
 * Which graph driver the image store uses for this invocation: --storage-driver, else
 * what the store's layers were laid out for, else what the probe finds. Call inside the
 * user namespace (the probe mounts).
 */
import os from 'node:os';
import { chooseGraphDriver } from '../storage/driver-probe.js';
import { ImageStore } from '../storage/image-store.js';

export interface StoreDriver {
  driver: 'overlay' | 'vfs';
  mountProgram?: string;
}

export function storeDriver(globals: { storageRoot: string; runRoot: string; storageDriver?: string }): StoreDriver {
  const recorded = new ImageStore(globals.storageRoot).driver();
  const probe = chooseGraphDriver(globals.storageRoot, globals.runRoot, os.release(), globals.storageDriver ?? recorded);
  return { driver: probe.driver, ...(probe.mountProgram ? { mountProgram: probe.mountProgram } : {}) };
}
