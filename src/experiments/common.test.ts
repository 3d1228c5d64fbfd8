import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { mnistOddEven } from '../data/mnist.js'
import fc from 'fast-check'
import { fixed, fmt, fmtSpread, maxOf, meanStd, median, minOf, quantileOfSorted, releaseSplitCache, runOutcomes, spread, type TaskGroup } from './common.js'
import { splitDigest } from './poolFixture.js'

// Three groups (three splits), two tasks each, small splits.
const spec = (seed: number) => ({ split: 'seeded' as const, seed, nTrain: 40, nVal: 30 })
const groups: TaskGroup[] = [11, 12, 13].map((seed) => ({
  split: spec(seed),
  tasks: [0, 1].map(() => ({ module: 'poolFixture', fn: 'splitDigest', input: { seed, nTrain: 40, nVal: 30 } })),
}))

type Digest = { sum: number; shared: boolean; id: number | null }

describe('runOutcomes with shared splits', () => {
  it('posts each group its own split, loaded once, equal to loading it directly', async () => {
    const direct = await Promise.all([11, 12, 13].map((seed) => splitDigest({ seed, nTrain: 40, nVal: 30 })))
    releaseSplitCache()
    for (const workers of [1, 2])
      for (const splitSlots of [1, 2]) {
        const got = await runOutcomes<Digest>(groups, { workers }, { splitSlots })
        releaseSplitCache()
        expect(E.isRight(got)).toBe(true)
        if (E.isLeft(got)) return
        const r = got.right
        // The same data as a fresh load (the slots' memory is reused between groups).
        expect(r.map((d) => d.sum)).toEqual(direct.flatMap((d) => (d.ok ? [d.value.sum, d.value.sum] : [])))
        expect(r.every((d) => d.shared)).toBe(true)
        // One load per group: both tasks of a group see the same load id, groups different ones.
        expect(r[0]!.id).toBe(r[1]!.id)
        expect(r[2]!.id).toBe(r[3]!.id)
        expect(new Set(r.map((d) => d.id)).size).toBe(3)
      }
  })
  it('reports a split that does not load as the task’s own Left', async () => {
    const bad: TaskGroup[] = [{ split: { split: 'seeded', seed: 1, nTrain: 9000, nVal: 9000 }, tasks: [{ module: 'poolFixture', fn: 'splitDigest', input: { seed: 1, nTrain: 9000, nVal: 9000 } }] }]
    const got = await runOutcomes(bad, { workers: 1 })
    expect(E.isLeft(got) && got.left.message).toMatch(/exceeds the 10000 digits/)
  })
  it('rejects the run when a task throws (a fault of the code, not a Left of the input)', async () => {
    const throwing: TaskGroup[] = [{ tasks: [{ module: 'poolFixture', fn: 'fail', input: 'broken task' }] }]
    await expect(runOutcomes(throwing, { workers: 1 })).rejects.toThrow(/^experiment task failed: broken task$/)
  })
})

describe('summary statistics', () => {
  it('median, maxOf and minOf of any length; meanStd of the finite values', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, NaN])
    // Longer than a spread onto the stack allows (Math.max(...xs) throws a RangeError there).
    const long = Array.from({ length: 2_000_000 }, (_, i) => ((i * 7919) % 2_000_003) - 1000)
    expect(maxOf(long)).toBe(long.reduce((a, b) => Math.max(a, b)))
    expect(minOf(long)).toBe(-1000)
    expect([maxOf([]), minOf([])]).toEqual([-Infinity, Infinity])
    expect(meanStd([1, null, 3, NaN, Infinity])).toEqual({ mean: 2, std: Math.SQRT2, count: 2 })
    expect([fmt(NaN), fixed(Infinity, 2), fmt(1234.5), fixed(0.125, 2)]).toEqual(['—', '—', '1.23e+3', '0.13'])
  })

  it('quantiles interpolate between order statistics (type 7, as numpy and R by default)', () => {
    // numpy.quantile([1, 2, 3, 4], [0.1, 0.5, 0.9]) = [1.3, 2.5, 3.7]
    const s = Float64Array.of(1, 2, 3, 4)
    expect(quantileOfSorted(s, 0.1)).toBeCloseTo(1.3, 14)
    expect(quantileOfSorted(s, 0.5)).toBe(2.5)
    expect(quantileOfSorted(s, 0.9)).toBeCloseTo(3.7, 14)
    expect([quantileOfSorted(s, 0), quantileOfSorted(s, 1), quantileOfSorted([], 0.5)]).toEqual([1, 4, NaN])
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, p) => {
        const sorted = Float64Array.from(xs).sort()
        const n = sorted.length
        const q = quantileOfSorted(sorted, p)
        // Between the two order statistics around h = (n − 1)p, and exactly one of them at h = k.
        const lo = sorted[Math.floor((n - 1) * p)]!
        const hi = sorted[Math.min(n - 1, Math.ceil((n - 1) * p))]!
        expect(q).toBeGreaterThanOrEqual(lo)
        expect(q).toBeLessThanOrEqual(hi)
        for (let k = 0; k < n; k++) expect(quantileOfSorted(sorted, n === 1 ? 0 : k / (n - 1))).toBe(sorted[k])
        // The median is the middle value, or the mean of the middle two for an even count, bit for bit.
        const middle = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
        expect(median(xs)).toBe(middle)
        expect(spread(xs).median).toBe(middle)
      }),
    )
  })

  it('spread: a diverged run is an unbounded error (it ranks last) or is left out', () => {
    const errors = [3, null, 1, 2, NaN]
    const unbounded = spread(errors, 'unbounded')
    expect(unbounded).toEqual({ median: 3, q10: 1.4, q90: Infinity, mean: Infinity, count: 5, nonFinite: 2 })
    const dropped = spread(errors)
    expect(dropped).toMatchObject({ median: 2, mean: 2, count: 3, nonFinite: 2 })
    expect(dropped.q10).toBeCloseTo(1.2, 14)
    expect(dropped.q90).toBeCloseTo(2.8, 14)
    expect(spread([])).toEqual({ median: NaN, q10: NaN, q90: NaN, mean: NaN, count: 0, nonFinite: 0 })
    expect(fmtSpread(unbounded)).toBe('3.00e+0 [1.40e+0, —]')
  })
})

describe('mnistOddEven allocate', () => {
  it('stores the split where the allocator says, with the same values as fresh arrays', () => {
    const fresh = mnistOddEven({ seed: 5, nTrain: 20, nVal: 10 })
    const buffer = new SharedArrayBuffer(8 * 30 * 785)
    let used = 0
    const viaSab = mnistOddEven({
      seed: 5,
      nTrain: 20,
      nVal: 10,
      allocate: (n) => {
        const a = new Float64Array(buffer, 8 * used, n)
        used += n
        return a
      },
    })
    expect(E.isRight(fresh) && E.isRight(viaSab)).toBe(true)
    if (E.isLeft(fresh) || E.isLeft(viaSab)) return
    expect(used).toBe(30 * 785)
    expect(viaSab.right.train.X.data.buffer).toBe(buffer)
    expect(Array.from(viaSab.right.train.X.data)).toEqual(Array.from(fresh.right.train.X.data))
    expect(Array.from(viaSab.right.validation.y)).toEqual(Array.from(fresh.right.validation.y))
    expect(() => mnistOddEven({ seed: 5, nTrain: 20, nVal: 10, allocate: (n) => new Float64Array(n + 1) })).toThrow(RangeError)
  })
})
