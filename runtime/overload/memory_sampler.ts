/**
 * What the memory-limit guard measures: the process's anonymous resident
 * memory (RssAnon), read from /proc/self/statm as resident − shared pages.
 *
 * Not total RSS: about 60 MiB of a serving svc's RSS are the deno
 * executable's file-backed pages (bench/issue20_measurements.md), which
 * the kernel drops and re-reads under pressure before it OOM-kills
 * anything, so counting them would refuse calls in a process that is in no
 * danger. Anonymous memory (V8's heap, malloc'd buffers, stacks) has no
 * file behind it and no swap in a container: it is what the kernel kills
 * for. Not the cgroup's usage either: it includes page cache the kernel
 * reclaims, so near the limit it reads ~100 % whatever the process holds,
 * and it does not exist when the limit is configured rather than a
 * cgroup's.
 *
 * The file stays open and is re-read from offset 0 (the kernel regenerates
 * it): one sample is a seek and a read of ~40 bytes, ~5 µs, where reading
 * /proc/self/status costs ~26 µs.
 * @module
 */

/** Reads the process's memory in bytes; `close` releases the file. */
export interface MemorySampler {
  /** What `sample` measures, for the start-up log. */
  readonly measure: "anon_rss" | "rss";
  sample(): number;
  close(): void;
}

/**
 * The anonymous-RSS sampler, or, where /proc cannot be read (not Linux, no
 * read permission), total RSS from Deno.memoryUsage(): larger, so the limit
 * still holds, only earlier.
 */
export function processMemorySampler(): MemorySampler {
  let file: Deno.FsFile | null = null;
  let pageSize: number;
  try {
    file = Deno.openSync("/proc/self/statm");
    pageSize = _pageSize(file);
  } catch {
    file?.close();
    return { measure: "rss", sample: () => Deno.memoryUsage().rss, close() {} };
  }
  const statm = file;
  const buffer = new Uint8Array(256);
  const decoder = new TextDecoder();
  return {
    measure: "anon_rss",
    sample() {
      statm.seekSync(0, Deno.SeekMode.Start);
      const n = statm.readSync(buffer) ?? 0;
      return parseStatm(decoder.decode(buffer.subarray(0, n)), pageSize);
    },
    close() {
      statm.close();
    },
  };
}

/**
 * Anonymous resident bytes from a statm line ("size resident shared text
 * lib data dt", in pages; shared counts file-backed and shmem pages).
 */
export function parseStatm(text: string, pageSize: number): number {
  const fields = text.split(" ");
  return (Number(fields[1]) - Number(fields[2])) * pageSize;
}

/**
 * The page size statm counts in: VmRSS (kB, in /proc/self/status) over
 * statm's resident pages, read once at start (4 KiB on x86-64, up to 64 KiB
 * on some arm64 kernels; Deno has no sysconf).
 */
function _pageSize(statm: Deno.FsFile): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  const buffer = new Uint8Array(256);
  const n = statm.readSync(buffer) ?? 0;
  const resident = Number(new TextDecoder().decode(buffer.subarray(0, n)).split(" ")[1]);
  if (!(rssKiB > 0 && resident > 0)) return 4096;
  // The two reads are microseconds apart: round to the nearest power of two.
  return 2 ** Math.round(Math.log2((rssKiB * 1024) / resident));
}
