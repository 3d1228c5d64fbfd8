/**
 * What this machine can give a run, read before any work: the memory still available (the
 * machine's, or its cgroup's when the process runs in one), the room left on the JavaScript
 * heap, and the cores. And the units in which messages state sizes and durations.
 */
import { availableParallelism, freemem, totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'

/** What a run may use. */
export interface Resources {
  /** Bytes that may still be allocated: the available memory (cgroup-aware) less a 10% margin. */
  readonly memoryBytes: number
  /**
   * Bytes by which the JavaScript heap of one thread may still grow: 60% of the room left
   * under its limit (near the limit, garbage collection takes most of the time).
   */
  readonly heapBytes: number
  /** Cores (available parallelism). */
  readonly cores: number
}

const process_ = process as NodeJS.Process & { availableMemory?: () => number; constrainedMemory?: () => number | undefined }

/** Bytes of memory still available to this process. */
export const availableMemory = (): number => {
  // process.availableMemory (Node ≥ 20.13) reads the cgroup limits (v1 and v2); freemem does not.
  let free = typeof process_.availableMemory === 'function' ? process_.availableMemory() : freemem()
  const limit = typeof process_.constrainedMemory === 'function' ? process_.constrainedMemory() : undefined
  if (limit !== undefined && limit > 0 && limit < totalmem()) free = Math.min(free, Math.max(0, limit - process.memoryUsage.rss()))
  return Number.isFinite(free) && free > 0 ? free : freemem()
}

/** The resources of this machine and process, now. */
export const machineResources = (): Resources => {
  const h = getHeapStatistics()
  return {
    memoryBytes: 0.9 * availableMemory(),
    heapBytes: 0.6 * Math.max(0, h.heap_size_limit - h.used_heap_size),
    cores: Math.max(1, availableParallelism()),
  }
}

/** Bytes in the units a person reads: "820 MB", "1.5 GB", "3.2 TB". */
export const formatBytes = (b: number): string => {
  if (!Number.isFinite(b)) return 'unbounded memory'
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB']
  let x = b
  let i = 0
  while (x >= 1000 && i < units.length - 1) ((x /= 1000), i++)
  return i >= units.length - 1 && x >= 1000 ? `${b.toExponential(1)} B` : `${x < 10 && i > 0 ? x.toFixed(1) : Math.round(x)} ${units[i]}`
}

/** Seconds in the units a person reads: "0.4 s", "12 min", "3.1 h", "2.0 days", "4e+05 years". */
export const formatSeconds = (s: number): string => {
  if (!Number.isFinite(s)) return 'forever'
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`
  if (s < 3600) return `${(s / 60).toFixed(s < 600 ? 1 : 0)} min`
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`
  const days = s / 86400
  if (days < 365) return `${days.toFixed(days < 10 ? 1 : 0)} days`
  const years = days / 365
  return years < 1e4 ? `${years.toFixed(0)} years` : `${years.toExponential(0)} years`
}

/** A count as typed: exact up to a million, in exponent form above ("1e12"). */
export const formatCount = (n: number): string => (Math.abs(n) < 1e6 || !Number.isFinite(n) ? String(n) : n.toExponential().replace('e+', 'e').replace(/\.?0+e/, 'e'))
