import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Sets the nice value of every thread of process `pid`. On Linux the nice value belongs to each
 * thread (a new thread inherits its creator's), so `setPriority(pid)` alone would leave the threads
 * already started (V8 helpers, the libuv pool that runs onnxruntime sessions) at their old value;
 * elsewhere the process' value is set.
 * @throws the system error of the first thread that refused (EACCES when raising it without privileges).
 */
export function setProcessPriority(pid: number, nice: number): void {
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    tids = [pid];
  }
  let first: unknown;
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
    } catch (err) {
      // a thread that ended meanwhile (ESRCH) does not matter
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH' && first === undefined) first = err;
    }
  }
  if (first !== undefined) throw first;
}
