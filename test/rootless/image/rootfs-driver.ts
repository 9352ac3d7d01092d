// Run inside tspod's user namespace (`tspod unshare tsx rootfs-driver.ts ...`): prepare or
// release a container root filesystem with src/storage/rootfs.ts and report as JSON.
import fs from 'node:fs';
import path from 'node:path';
import { isMounted, prepareContainerRootfs, releaseContainerRootfs } from '../../../src/storage/rootfs.js';

const [op, storageRoot, runRoot, imageId, cid] = process.argv.slice(2) as [string, string, string, string, string];
if (op === 'prepare') {
  const r = await prepareContainerRootfs(storageRoot, runRoot, imageId, cid);
  // Change something through the mount, as a container would.
  fs.rmSync(path.join(r.rootfs, 'etc', 'hostname'));
  fs.writeFileSync(path.join(r.rootfs, 'new.txt'), 'written in the container\n');
  const again = await prepareContainerRootfs(storageRoot, runRoot, imageId, cid);
  const upper = fs.readdirSync(r.upperDir).sort();
  let hostnameWhiteout: string | undefined;
  try {
    const st = fs.lstatSync(path.join(r.upperDir, 'etc', 'hostname'));
    hostnameWhiteout = st.isCharacterDevice() ? `c ${st.rdev}` : 'other';
  } catch {
    hostnameWhiteout = undefined;
  }
  console.log(JSON.stringify({ rootfs: r.rootfs, driver: r.driver, same: again.rootfs === r.rootfs, mounted: isMounted(r.rootfs), upper, hostnameWhiteout }));
} else {
  releaseContainerRootfs(storageRoot, cid, { remove: op === 'remove' });
  console.log(JSON.stringify({ ok: true }));
}
