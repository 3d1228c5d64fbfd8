/**
 * Sweeps across machines: an experiment's run cut into n disjoint slices of its pool tasks
 * (`hypergrad reproduce NAME --shard i/n`), each written as a shard file, and the shard files
 * put together again (`hypergrad merge DIR…`) into the output of one unsharded run.
 *
 * Why the pieces fit bit for bit: an experiment's tasks are listed by its `sweep` in an order
 * that depends on the configuration alone, and every task derives its randomness from its own
 * input (run index, λ, base seed), never from the schedule; so a task's result is the same in
 * any slice, on any machine with the same code, and `assemble` makes the same output from the
 * same results in the same order. Slice i of n holds the tasks [⌊(i−1)N/n⌋, ⌊iN/n⌋) of the N
 * tasks: contiguous ranges, so that tasks that read one data split mostly stay together.
 *
 * A shard file is JSON that keeps every number exactly: a finite number is written as JSON
 * writes it (the shortest decimal that reads back to the same double), and what JSON cannot
 * hold is tagged — NaN, ±Infinity and −0 as {"$num": "NaN"}, typed arrays as {"$f64": […]}
 * (and $f32, $i32, $u32, $u8), a field whose value is undefined as {"$undefined": true} — so
 * that reading a file gives back the values a task returned, to the bit.
 *
 * A merge refuses, with one line naming the files: a file that is not a shard of this format,
 * shards of other library versions, of different experiments or configurations, of different
 * slice counts, of task lists that differ (a fingerprint of the tasks' inputs), a slice given
 * twice, or a slice missing.
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { showValue } from '../config/show.js'
import { hgError, type HypergradError } from '../errors.js'
import type { Sweep } from './common.js'
import type { Task } from './pool.js'

/** The tasks of a sweep, in order. */
export const sweepTasks = (s: Sweep): ReadonlyArray<Task> => s.groups.flatMap((g) => g.tasks)

/** Slice `index` (1 ≤ index ≤ count) of `count`. */
export interface Shard {
  readonly index: number
  readonly count: number
}

const SHARD_PATTERN = /^\s*(\d+)\s*\/\s*(\d+)\s*$/

/** Read "i/n" (1 ≤ i ≤ n) as a shard; a 'config' error naming the value otherwise. */
export const parseShard = (text: string): E.Either<HypergradError, Shard> => {
  const m = SHARD_PATTERN.exec(text)
  const index = m === null ? NaN : Number(m[1])
  const count = m === null ? NaN : Number(m[2])
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(count) && count >= 1 && index >= 1 && index <= count))
    return E.left(hgError('config', `--shard: expected i/n, slice i of n with 1 ≤ i ≤ n (e.g. 2/8), got ${showValue(text, 40)}`))
  return E.right({ index, count })
}

/** The tasks [from, to) of slice `s` among `total` tasks. */
export const shardRange = (total: number, s: Shard): { readonly from: number; readonly to: number } => ({
  from: Math.floor(((s.index - 1) * total) / s.count),
  to: Math.floor((s.index * total) / s.count),
})

/** The part of a sweep in slice `s`: its groups cut to the slice's tasks (each keeping its split). */
export const sliceSweep = (sweep: Sweep, s: Shard): { readonly sweep: Sweep; readonly from: number; readonly to: number; readonly total: number } => {
  const total = sweepTasks(sweep).length
  const { from, to } = shardRange(total, s)
  let at = 0
  const groups = []
  for (const g of sweep.groups) {
    const start = at
    at += g.tasks.length
    const tasks = g.tasks.slice(Math.max(0, from - start), Math.max(0, to - start))
    if (tasks.length > 0) groups.push({ ...g, tasks })
  }
  return { sweep: { ...sweep, groups }, from, to, total }
}

/** A digest of a sweep's task list (modules, functions and inputs): shards of one run have the same. */
export const sweepFingerprint = (sweep: Sweep): string =>
  createHash('sha256')
    .update(JSON.stringify(encodeExact(sweepTasks(sweep))))
    .digest('hex')

// ── exact JSON ───────────────────────────────────────────────────────────────────────────────

const TYPED = { $f64: Float64Array, $f32: Float32Array, $i32: Int32Array, $u32: Uint32Array, $u8: Uint8Array } as const
type TypedTag = keyof typeof TYPED

const specialNumber = (x: number): string | undefined =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : Object.is(x, -0) ? '-0' : undefined

const encodeNumber = (x: number): unknown => {
  const special = specialNumber(x)
  return special === undefined ? x : { $num: special }
}

/**
 * A value as JSON that reads back to the same value bit for bit (see the file comment). Plain
 * objects, arrays, strings, booleans, null, numbers, undefined fields and typed arrays; any
 * other value (a Map, a function, a key that starts with "$") is a programmer error: RangeError.
 */
export const encodeExact = (x: unknown): unknown => {
  if (typeof x === 'number') return encodeNumber(x)
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return x
  if (x === undefined) return { $undefined: true }
  if (Array.isArray(x)) return x.map(encodeExact)
  if (ArrayBuffer.isView(x)) {
    const tag = (Object.keys(TYPED) as TypedTag[]).find((k) => x.constructor === TYPED[k])
    if (tag === undefined) throw new RangeError(`encodeExact: cannot encode a ${x.constructor.name}`)
    return { [tag]: Array.from(x as unknown as ArrayLike<number>, encodeNumber) }
  }
  const proto: unknown = typeof x === 'object' ? Object.getPrototypeOf(x) : undefined
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x as object)) {
      if (k.startsWith('$')) throw new RangeError(`encodeExact: the key ${JSON.stringify(k)} is reserved for tags`)
      out[k] = encodeExact(v)
    }
    return out
  }
  throw new RangeError(`encodeExact: cannot encode ${typeof x === 'object' ? (x.constructor?.name ?? 'an object') : typeof x}`)
}

const decodeNumber = (x: unknown): number => {
  if (typeof x === 'number') return x
  const tag = typeof x === 'object' && x !== null ? (x as { $num?: unknown }).$num : undefined
  switch (tag) {
    case 'NaN':
      return NaN
    case 'Infinity':
      return Infinity
    case '-Infinity':
      return -Infinity
    case '-0':
      return -0
    default:
      throw new RangeError(`not an encoded number: ${showValue(x, 40)}`)
  }
}

/** The inverse of {@link encodeExact}; a RangeError for what it cannot have written. */
export const decodeExact = (x: unknown): unknown => {
  if (x === null || typeof x !== 'object') return x
  if (Array.isArray(x)) return x.map(decodeExact)
  const keys = Object.keys(x)
  const tag = keys.length === 1 && keys[0]!.startsWith('$') ? keys[0]! : undefined
  if (tag === undefined) {
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const v = decodeExact((x as Record<string, unknown>)[k])
      out[k] = v
    }
    return out
  }
  const v = (x as Record<string, unknown>)[tag]
  if (tag === '$num') return decodeNumber(x)
  if (tag === '$undefined' && v === true) return undefined
  if (tag in TYPED && Array.isArray(v)) return TYPED[tag as TypedTag].from(v.map(decodeNumber))
  throw new RangeError(`unknown tag ${showValue(tag, 40)}`)
}

// ── shard files ──────────────────────────────────────────────────────────────────────────────

/** The format of shard files (a merge refuses any other). */
export const SHARD_FORMAT = 'hypergrad-shard/1'

/** The time and resources of the run that made a shard. */
export interface ShardTiming {
  readonly wallSeconds: number
  readonly workers: number
  readonly cpuSeconds?: number
  readonly maxRssMiB?: number
}

/** What a shard file holds: the run it belongs to, its slice, and its tasks' results in task order. */
export interface ShardFile {
  readonly format: typeof SHARD_FORMAT
  /** The library version that made it. */
  readonly version: string
  readonly experiment: string
  /** The run's full configuration (every field). */
  readonly config: unknown
  readonly shard: Shard
  /** The slice's tasks: [from, to) of total, and the fingerprint of the whole task list. */
  readonly tasks: { readonly total: number; readonly from: number; readonly to: number; readonly fingerprint: string }
  readonly results: ReadonlyArray<unknown>
  readonly timing: ShardTiming
}

/** The name of a shard's file: shard-i-of-n.json. */
export const shardFileName = (s: Shard): string => `shard-${s.index}-of-${s.count}.json`

/** Whether a file name is a shard file's. */
export const isShardFileName = (name: string): boolean => /^shard-\d+-of-\d+\.json$/.test(name)

/** A shard file as text (exact JSON, see the file comment). */
export const encodeShard = (f: ShardFile): string => `${JSON.stringify({ ...f, results: encodeExact(f.results) })}\n`

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** Read a shard file's text (`name` for the messages); a 'config' error for anything but a shard of this format. */
export const decodeShard = (text: string, name: string): E.Either<HypergradError, ShardFile> => {
  const bad = (why: string) => E.left(hgError('config', `merge: ${name} is not a hypergrad shard file (${why})`))
  let u: unknown
  try {
    u = JSON.parse(text)
  } catch {
    return bad('not JSON')
  }
  if (!isRecord(u)) return bad('not a JSON object')
  if (u['format'] !== SHARD_FORMAT) return bad(`format ${showValue(u['format'], 40)}, expected "${SHARD_FORMAT}"`)
  const { version, experiment, shard, tasks, results, timing } = u
  if (typeof version !== 'string' || typeof experiment !== 'string') return bad('no version or experiment')
  if (!isRecord(shard) || !isCount(shard['index']) || !isCount(shard['count']) || shard['index'] < 1 || shard['index'] > shard['count']) return bad('no valid slice i of n')
  if (!isRecord(tasks) || !isCount(tasks['total']) || !isCount(tasks['from']) || !isCount(tasks['to']) || typeof tasks['fingerprint'] !== 'string') return bad('no valid task range')
  if (!Array.isArray(results) || results.length !== tasks['to'] - tasks['from']) return bad('the results do not match the task range')
  if (!isRecord(timing)) return bad('no timing')
  let decoded: unknown
  try {
    decoded = decodeExact(results)
  } catch (e) {
    return bad(e instanceof Error ? e.message : 'bad results')
  }
  return E.right({
    format: SHARD_FORMAT,
    version,
    experiment,
    config: u['config'],
    shard: { index: shard['index'], count: shard['count'] },
    tasks: { total: tasks['total'], from: tasks['from'], to: tasks['to'], fingerprint: tasks['fingerprint'] },
    results: decoded as unknown[],
    timing: timing as unknown as ShardTiming,
  })
}

/** JSON with the keys of every object sorted: equal configurations give equal text. */
const canonical = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => (isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v))

/** The first field in which two configurations differ, for the message. */
const firstDifference = (a: unknown, b: unknown): string => {
  if (isRecord(a) && isRecord(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      if (canonical(a[k]) !== canonical(b[k])) return `${k}: ${showValue(a[k], 40)} against ${showValue(b[k], 40)}`
  }
  return `${showValue(a, 40)} against ${showValue(b, 40)}`
}

/** Shards that make one whole run, in slice order: every check of the file comment passed. */
export interface CheckedShards {
  readonly experiment: string
  readonly config: unknown
  readonly count: number
  readonly total: number
  readonly fingerprint: string
  /** The results of every task, in task order. */
  readonly results: ReadonlyArray<unknown>
  /** Each slice's timing, in slice order. */
  readonly timings: ReadonlyArray<ShardTiming & { readonly index: number; readonly tasks: number }>
}

/**
 * Check that shard files make one whole run (see the file comment) and put their results in
 * task order; a 'config' error naming the files otherwise. `version` is this library's.
 */
export const checkShards = (files: ReadonlyArray<{ readonly name: string; readonly file: ShardFile }>, version: string): E.Either<HypergradError, CheckedShards> => {
  const fail = (why: string) => E.left(hgError('config', `merge: ${why}`))
  const first = files[0]
  if (first === undefined) return fail('no shard files (shard-i-of-n.json) were given')
  for (const { name, file } of files) {
    if (file.version !== version) return fail(`${name} was made by hypergrad ${file.version}, this is ${version}: rerun the shard with this version`)
    if (file.experiment !== first.file.experiment) return fail(`${name} is a shard of ${file.experiment}, ${first.name} of ${first.file.experiment}`)
    if (canonical(file.config) !== canonical(first.file.config))
      return fail(`${name} and ${first.name} have different configurations (${firstDifference(file.config, first.file.config)})`)
    if (file.shard.count !== first.file.shard.count) return fail(`${name} is a slice of ${file.shard.count}, ${first.name} of ${first.file.shard.count}`)
    if (file.tasks.total !== first.file.tasks.total || file.tasks.fingerprint !== first.file.tasks.fingerprint)
      return fail(`${name} and ${first.name} list different tasks for the same configuration (made by different code?)`)
    const { from, to } = shardRange(file.tasks.total, file.shard)
    if (file.tasks.from !== from || file.tasks.to !== to) return fail(`${name}: slice ${file.shard.index} of ${file.shard.count} holds tasks [${from}, ${to}), not [${file.tasks.from}, ${file.tasks.to})`)
  }
  const count = first.file.shard.count
  const bySlice = new Map<number, { readonly name: string; readonly file: ShardFile }>()
  for (const f of files) {
    const seen = bySlice.get(f.file.shard.index)
    if (seen !== undefined) return fail(`slice ${f.file.shard.index} of ${count} is given twice (${seen.name} and ${f.name})`)
    bySlice.set(f.file.shard.index, f)
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !bySlice.has(i))
  if (missing.length > 0)
    return fail(`slice${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} of ${count} ${missing.length > 1 ? 'are' : 'is'} missing`)
  const ordered = Array.from({ length: count }, (_, i) => bySlice.get(i + 1)!)
  return E.right({
    experiment: first.file.experiment,
    config: first.file.config,
    count,
    total: first.file.tasks.total,
    fingerprint: first.file.tasks.fingerprint,
    results: ordered.flatMap((f) => f.file.results),
    timings: ordered.map((f) => ({ ...f.file.timing, index: f.file.shard.index, tasks: f.file.tasks.to - f.file.tasks.from })),
  })
}
