// A ring keeps the credentials of the thread that created it, and io_uring
// runs its requests with them even after the process drops privileges (the
// lesson of CVE-2024-22017, where Node's own io_uring use let a process that
// had called setuid() keep acting as root). Rings therefore refuse new work
// once the process's user or group IDs differ from those at creation.
//
// Node's setuid-family functions bump an epoch so the check costs one
// comparison per call; the IDs themselves are compared only when it moved.

export interface Credentials { uid: number; euid: number; gid: number; egid: number }

let epoch = 0;

export function credentialsEpoch(): number {
  return epoch;
}

export function currentCredentials(): Credentials {
  return {
    uid: process.getuid?.() ?? -1,
    euid: process.geteuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    egid: process.getegid?.() ?? -1,
  };
}

export function sameCredentials(a: Credentials, b: Credentials): boolean {
  return a.uid === b.uid && a.euid === b.euid && a.gid === b.gid && a.egid === b.egid;
}

const WRAPPED = Symbol.for('uring.credentials.wrapped');
type AnyFn = (...args: unknown[]) => unknown;
const proc = process as unknown as Record<string, AnyFn | undefined> & { [WRAPPED]?: boolean };
if (!proc[WRAPPED]) {
  proc[WRAPPED] = true;
  for (const name of ['setuid', 'seteuid', 'setgid', 'setegid', 'setgroups', 'initgroups']) {
    const original = proc[name];
    if (typeof original !== 'function') continue;
    proc[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } finally {
        epoch++;
      }
    };
  }
}

/** Forces the next operation on every ring to compare IDs (for IDs changed outside Node's API). */
export function credentialsMayHaveChanged(): void {
  epoch++;
}
