import fc from 'fast-check'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { libraryVersion } from '../config/version.js'
import { experimentNames, mergeShards, reproduce, reproduceShard, write, type ExperimentOutput } from './registry.js'
import {
  checkShards,
  decodeExact,
  decodeShard,
  encodeExact,
  encodeShard,
  parseShard,
  SHARD_FORMAT,
  shardFileName,
  shardRange,
  sliceSweep,
  sweepTasks,
  type ShardFile,
} from './shard.js'
import { leftMessage, right } from './testing.test-util.js'

describe('slices', () => {
  it('reads i/n with 1 ≤ i ≤ n and refuses anything else, naming the value', () => {
    expect(right(parseShard('2/3'))).toEqual({ index: 2, count: 3 })
    expect(right(parseShard(' 1 / 1 '))).toEqual({ index: 1, count: 1 })
    for (const bad of ['0/3', '4/3', '1/0', '0/0', '-1/3', '1.5/3', '2', '2/3/4', 'a/b', '', '1e1/20', '99999999999999999999/1'])
      expect(leftMessage(parseShard(bad))).toBe(`--shard: expected i/n, slice i of n with 1 ≤ i ≤ n (e.g. 2/8), got ${JSON.stringify(bad)}`)
  })

  it('cuts N tasks into n contiguous, disjoint slices that cover them, sizes within one of each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 60 }), (total, count) => {
        let next = 0
        const sizes: number[] = []
        for (let index = 1; index <= count; index++) {
          const { from, to } = shardRange(total, { index, count })
          expect(from).toBe(next)
          expect(to).toBeGreaterThanOrEqual(from)
          sizes.push(to - from)
          next = to
        }
        expect(next).toBe(total)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
      }),
    )
  })

  it('a slice of a sweep keeps its tasks in order with their groups’ splits', () => {
    const split = { split: 'seeded' as const, seed: 1, nTrain: 10, nVal: 10 }
    const task = (i: number) => ({ module: 'm', fn: 'f', input: i })
    const sweep = { groups: [{ split, tasks: [0, 1, 2].map(task) }, { tasks: [3, 4].map(task) }, { split: { ...split, seed: 2 }, tasks: [5, 6, 7].map(task) }], splitSlots: 1 }
    const all = sweepTasks(sweep).map((t) => t.input)
    const pieces = [1, 2, 3].map((index) => sliceSweep(sweep, { index, count: 3 }))
    expect(pieces.flatMap((p) => sweepTasks(p.sweep).map((t) => t.input))).toEqual(all)
    expect(pieces.map((p) => [p.from, p.to, p.total])).toEqual([
      [0, 2, 8],
      [2, 5, 8],
      [5, 8, 8],
    ])
    // Slice 2 holds the last task of group 1 (with its split) and group 2 (no split).
    expect(pieces[1]!.sweep.groups).toEqual([
      { split, tasks: [task(2)] },
      { tasks: [3, 4].map(task) },
    ])
    expect(pieces[1]!.sweep.splitSlots).toBe(1)
  })
})

// ── exact JSON ──────────────────────────────────────────────────────────────────────────────

/** Equal as values, to the bit: numbers by Object.is, typed arrays of the same class, undefined fields present. */
const sameExact = (a: unknown, b: unknown): boolean => {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b)
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false
    const x = a as unknown as ArrayLike<number>
    const y = b as unknown as ArrayLike<number>
    return x.length === y.length && Array.from(x).every((v, i) => Object.is(v, y[i]))
  }
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameExact(v, b[i]))
  if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
    const ka = Object.keys(a)
    const kb = Object.keys(b)
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameExact((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}

const anyNumber = fc.oneof(fc.double(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1 + 0.2))
const key = fc.string({ maxLength: 6 }).filter((k) => !k.startsWith('$') && k !== '__proto__')
const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    anyNumber,
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(anyNumber).map((xs) => Float64Array.from(xs)),
    fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map((xs) => Int32Array.from(xs)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 4 }),
  ),
}))

describe('exact JSON', () => {
  it('reads back every value it writes, to the bit (−0, NaN, ±∞, typed arrays, undefined fields)', () => {
    fc.assert(
      fc.property(anyValue, (v) => {
        const back = decodeExact(JSON.parse(JSON.stringify(encodeExact(v))))
        expect(sameExact(back, v)).toBe(true)
      }),
    )
  })
  it('refuses what it cannot write back, and tags it does not know', () => {
    expect(() => encodeExact(new Map())).toThrow(RangeError)
    expect(() => encodeExact({ $num: 1 })).toThrow(/reserved/)
    expect(() => encodeExact(() => 0)).toThrow(RangeError)
    expect(() => decodeExact({ $float: [1] })).toThrow(/unknown tag/)
    expect(() => decodeExact({ $num: 'big' })).toThrow(/not an encoded number/)
  })
})

// ── checks on shard files ───────────────────────────────────────────────────────────────────

const file = (index: number, count: number, over: Partial<ShardFile> = {}): ShardFile => {
  const total = 5
  const { from, to } = shardRange(total, { index, count })
  return {
    format: SHARD_FORMAT,
    version: libraryVersion(),
    experiment: 'bounds',
    config: { runs: 5, seed: 0 },
    shard: { index, count },
    tasks: { total, from, to, fingerprint: 'abc' },
    results: Array.from({ length: to - from }, (_, i) => ({ task: from + i })),
    timing: { wallSeconds: index, workers: 1, cpuSeconds: 1 },
    ...over,
  }
}
const named = (fs: ShardFile[]) => fs.map((f, i) => ({ name: `d${i}/${shardFileName(f.shard)}`, file: f }))
const version = libraryVersion()

describe('checkShards', () => {
  it('puts the slices’ results in task order, whatever order the files come in', () => {
    const c = right(checkShards(named([file(3, 3), file(1, 3), file(2, 3)]), version))
    expect(c.results).toEqual([0, 1, 2, 3, 4].map((task) => ({ task })))
    expect(c.timings.map((t) => [t.index, t.tasks])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
    ])
  })
  it('refuses what does not make one whole run, naming the files', () => {
    const cases: Array<[ShardFile[], RegExp]> = [
      [[], /^merge: no shard files/],
      [[file(1, 2), file(1, 2)], /^merge: slice 1 of 2 is given twice \(d0\/shard-1-of-2\.json and d1\/shard-1-of-2\.json\)$/],
      [[file(1, 3), file(3, 3)], /^merge: slice 2 of 3 is missing$/],
      [[file(2, 4)], /^merge: slices 1, 3, 4 of 4 are missing$/],
      [[file(1, 2), file(2, 3)], /^merge: d1\/shard-2-of-3\.json is a slice of 3, d0\/shard-1-of-2\.json of 2$/],
      [[file(1, 2), file(2, 2, { experiment: 'sid-fig1' })], /^merge: d1\/shard-2-of-2\.json is a shard of sid-fig1, d0\/shard-1-of-2\.json of bounds$/],
      [[file(1, 2), file(2, 2, { config: { runs: 6, seed: 0 } })], /^merge: d1\/shard-2-of-2\.json and d0\/shard-1-of-2\.json have different configurations \(runs: 6 against 5\)$/],
      [[file(1, 2), file(2, 2, { tasks: { total: 5, from: 2, to: 5, fingerprint: 'xyz' } })], /list different tasks/],
      [[file(1, 2, { version: '0.0.1' })], /was made by hypergrad 0\.0\.1, this is/],
      [[file(1, 2, { tasks: { total: 5, from: 0, to: 3, fingerprint: 'abc' } })], /slice 1 of 2 holds tasks \[0, 2\), not \[0, 3\)/],
    ]
    for (const [fs, re] of cases) expect(leftMessage(checkShards(named(fs), version))).toMatch(re)
  })
  it('reads only shard files of this format, with results that match their range', () => {
    const ok = file(1, 2)
    expect(right(decodeShard(encodeShard(ok), 'a.json'))).toEqual(ok)
    const bad: Array<[string, RegExp]> = [
      ['{', /^merge: x\.json is not a hypergrad shard file \(not JSON\)$/],
      ['[1]', /not a JSON object/],
      [JSON.stringify({ ...ok, format: 'hypergrad-shard/0' }), /format "hypergrad-shard\/0", expected "hypergrad-shard\/1"/],
      [JSON.stringify({ ...ok, shard: { index: 3, count: 2 } }), /no valid slice/],
      [JSON.stringify({ ...ok, results: [] }), /the results do not match the task range/],
      [JSON.stringify({ ...ok, results: [{ $weird: 1 }, 2] }), /unknown tag/],
    ]
    for (const [text, re] of bad) expect(leftMessage(decodeShard(text, 'x.json'))).toMatch(re)
  })
})

// ── every experiment: three shards merged = one run ──────────────────────────────────────────

/**
 * Tiny settings of every experiment, with at least three pool tasks. tune-mnist stops its
 * methods by a wall-clock budget: here the step caps stop them first, so that its numbers are
 * reproducible (only the timing differs between two runs).
 */
const TINY: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'sid-fig1': { runs: 1, lambdas: '10,100', epochs: '2', nTrain: 200, nVal: 200, batchSize: 20 },
  'sid-fig2': { runs: 1, epochs: '2', nTrain: 200, nVal: 200, batchSize: 20 },
  'iteration-complexity': { runs: 2, iterations: '0,4,8', nTrain: 150, nVal: 150, quadDim: 8, quadHyperDim: 3 },
  bounds: { runs: 3, rows: 30, cols: 3, lowerIterations: 4, linearIterations: 5 },
  'tune-mnist': { runs: 1, methods: 'aidScalar,sid,grid,random', budgetSeconds: 1000, aidSteps: 2, sidSteps: 2, sidEpochs: 1, gridPoints: 3, randomPoints: 3, nTrain: 200, nVal: 150, nTest: 150, maxT: 200, maxK: 40 },
  'data-cleaning': { runs: 3, nTrain: 120, nVal: 80, nTest: 80, steps: 2, maxT: 300, maxK: 40 },
  'er-budget-split': { runs: 3, rows: 30, cols: 3, budget: 12, step: 4 },
  'er-hypercleaning': { runs: 3, nTrain: 20, nVal: 10, budget: 10, curvePoints: 2 },
  'grazzi-krr': { runs: 3, iterations: '0,5', nTrain: 30, nVal: 20 },
  'grazzi-biased-reg': { runs: 3, iterations: '0,5', nTrain: 60, nVal: 40 },
  'grazzi-hyper-rep': { runs: 3, iterations: '0,5', nTrain: 40, nVal: 30, features: 3 },
  'grazzi-equilibrium': { runs: 3, iterations: '0,5', digits: 10 },
  'grazzi-newsgroups': { runs: 3, iterations: '0,5', nTrain: 40, nVal: 20, features: 30, nnzPerRow: 6, classes: 3, lambdaScale: 0.5 },
}

/** What differs between two runs of one configuration: the timing (docs/reproduction.md). */
const TIMING_FIELD = /(^s|S)econds$/

/** results.json without its timing: the `timing` object and every field named seconds or …Seconds. */
const untimedJson = (text: string): unknown => {
  const strip = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(strip)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(Object.entries(x).filter(([k]) => !TIMING_FIELD.test(k)).map(([k, v]) => [k, strip(v)]))
        : x
  const { timing: _t, ...rest } = JSON.parse(text) as Record<string, unknown>
  return strip(rest)
}

/** results.csv without its `seconds` column. */
const untimedCsv = (text: string): string => {
  const lines = text.split('\n')
  const drop = lines[0]!.split(',').indexOf('seconds')
  return drop < 0 ? text : lines.map((l) => l.split(',').filter((_, i) => i !== drop).join(',')).join('\n')
}

/** Figures drawn against seconds, and summaries that print times (tune-mnist compares methods at equal wall-clock time). */
const TIMED_FIGURES = new Set(['tune-mnist.svg'])
const TIMED_SUMMARIES = new Set(['tune-mnist'])

const written = async (out: ExperimentOutput<unknown>): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), 'hg-shard-'))
  right(await write(out, dir))
  return dir
}

describe('a sweep in three slices, merged, equals one run', () => {
  it('covers every experiment of the registry', () => {
    expect(Object.keys(TINY).sort()).toEqual([...experimentNames].sort())
  })
  for (const name of experimentNames)
    it(`${name}: the same results.json (but the timing), results.csv and figures`, async () => {
      const overrides = TINY[name]!
      const whole = right(await reproduce(name, overrides, { workers: 1 }))
      const texts: Array<{ readonly name: string; readonly text: string }> = []
      for (const index of [3, 1, 2]) {
        const f = right(await reproduceShard(name, overrides, { index, count: 3 }, { workers: 1 }))
        expect(f.results.length).toBeGreaterThan(0)
        texts.push({ name: shardFileName(f.shard), text: encodeShard(f) })
      }
      const merged = right(mergeShards(texts))
      expect(merged.timing.shards).toHaveLength(3)
      const a = await written(whole)
      const b = await written(merged)
      const files = readdirSync(a).sort()
      expect(readdirSync(b).sort()).toEqual(files)
      for (const f of files) {
        const [x, y] = [readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8')]
        if (f === 'results.json') {
          const [u, v] = [untimedJson(x) as Record<string, unknown>, untimedJson(y) as Record<string, unknown>]
          if (TIMED_SUMMARIES.has(name)) [u, v].forEach((j) => delete j['summary'])
          expect(v).toEqual(u)
        }
        else if (f === 'results.csv') expect(untimedCsv(y)).toBe(untimedCsv(x))
        else if (!TIMED_FIGURES.has(f)) expect(y, f).toBe(x)
      }
    })
})
