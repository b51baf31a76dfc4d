import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/**
 * Everything the doctor knows about the machine comes through this interface, so that every
 * check can run against fixture /proc and /sys contents in tests.
 */
export interface SystemReader {
  /** Text of a /proc or /sys file, or undefined when it does not exist or cannot be read. */
  readFile(path: string): string | undefined;
  /** `v8.getHeapStatistics().heap_size_limit` of this process, in bytes. */
  heapSizeLimit(): number;
  /** CPUs this process may use. */
  cpuCount(): number;
  /** Kernel page size in bytes (the unit of net.ipv4.tcp_mem). */
  pageSize(): number;
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The running machine, as this process sees it. */
export function systemReader(): SystemReader {
  let page: number | undefined;
  return {
    readFile: tryRead,
    heapSizeLimit: () => getHeapStatistics().heap_size_limit,
    cpuCount: () => availableParallelism(),
    pageSize: () => {
      if (page === undefined) {
        // Node has no sysconf(_SC_PAGESIZE); the kernel reports it for every mapping.
        const m = /^KernelPageSize:\s+(\d+) kB$/m.exec(tryRead('/proc/self/smaps') ?? '');
        page = m ? Number(m[1]) * 1024 : 4096;
      }
      return page;
    },
  };
}

export interface FixtureValues {
  heapSizeLimit: number;
  cpuCount: number;
  pageSize?: number;
}

/** A machine described by a map from path to file text: how tests describe machines. */
export function fixtureReader(files: Record<string, string>, values: FixtureValues): SystemReader {
  return {
    readFile: (path) => (Object.hasOwn(files, path) ? files[path] : undefined),
    heapSizeLimit: () => values.heapSizeLimit,
    cpuCount: () => values.cpuCount,
    pageSize: () => values.pageSize ?? 4096,
  };
}
