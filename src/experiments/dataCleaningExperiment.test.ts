import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  checkDataCleaning,
  dataCleaningDefaults,
  decodeDataCleaning,
  detection,
  runDataCleaning,
  type DataCleaningConfig,
  type DataCleaningTaskResult,
} from './dataCleaningExperiment.js'
import { right } from './testing.test-util.js'

describe('detection scores', () => {
  it('agree with brute-force counts (ties broken by row index at the cut; AUC over all pairs)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 2, maxLength: 40 }).chain((lam) =>
          fc.tuple(fc.constant(lam), fc.uniqueArray(fc.integer({ min: 0, max: lam.length - 1 }), { minLength: 1, maxLength: lam.length - 1 }), fc.double({ min: 0.05, max: 0.95, noNaN: true })),
        ),
        ([lam, flippedList, frac]) => {
          const flipped = new Set(flippedList)
          const n = lam.length
          const d = detection(lam, Int32Array.from(flippedList), frac)
          // Rank of i: how many rows come before it in (λ, index) order.
          const rank = (i: number) => lam.filter((l, j) => l < lam[i]! || (l === lam[i]! && j < i)).length
          const flag = Math.round(frac * n)
          const hits = [...flipped].filter((i) => rank(i) < flag).length
          if (flag === 0) expect(d.precision).toBeNaN()
          else expect(d.precision).toBeCloseTo(hits / flag, 12)
          expect(d.recall).toBeCloseTo(hits / flipped.size, 12)
          let wins = 0
          for (const i of flipped)
            for (let j = 0; j < n; j++) if (!flipped.has(j)) wins += lam[i]! < lam[j]! ? 1 : lam[i]! === lam[j]! ? 0.5 : 0
          expect(d.auc).toBeCloseTo(wins / (flipped.size * (n - flipped.size)), 12)
          const sig = (x: number) => 1 / (1 + Math.exp(-x))
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
          expect(d.meanWeightFlipped).toBeCloseTo(mean([...flipped].map((i) => sig(lam[i]!))), 12)
          expect(d.meanWeightClean).toBeCloseTo(mean(lam.filter((_, j) => !flipped.has(j)).map(sig)), 12)
        },
      ),
    )
  })
})

describe('data-cleaning configuration', () => {
  it('decodes the defaults and rejects out-of-range fractions and sizes', () => {
    expect(E.isRight(decodeDataCleaning(dataCleaningDefaults))).toBe(true)
    expect(E.isLeft(decodeDataCleaning({ ...dataCleaningDefaults, flipFraction: 1 }))).toBe(true)
    expect(E.isLeft(decodeDataCleaning({ ...dataCleaningDefaults, rho: 0 }))).toBe(true)
    const big = checkDataCleaning({ ...dataCleaningDefaults, nTrain: 8000, nVal: 1000, nTest: 2000 })
    expect(E.isLeft(big) && big.left.message).toMatch(/exceeds the 10000/)
    const tiny = checkDataCleaning({ ...dataCleaningDefaults, nTrain: 1, flipFraction: 0.3 })
    expect(E.isLeft(tiny) && tiny.left.message).toMatch(/too small/)
  })
})

describe('data-cleaning, reduced run', () => {
  const config: DataCleaningConfig = { ...dataCleaningDefaults, runs: 1, nTrain: 300, nVal: 200, nTest: 300, steps: 15 }
  const outP = runDataCleaning(config, { workers: 1 })
  const result = async (): Promise<DataCleaningTaskResult> => {
    const out = right(await outP)
    return (out.details as { results: DataCleaningTaskResult[] }).results[0]!
  }

  it('flipped samples end with lower weights than clean ones, and the lowest 30% find them above chance', async () => {
    const r = await result()
    expect(r.flipped).toBe(Math.round(0.3 * 300))
    expect(r.final.meanWeightFlipped).toBeLessThan(r.final.meanWeightClean)
    // Chance: a random 30% holds 30% flipped samples; an AUC of ½.
    expect(r.final.precision).toBeGreaterThan(0.3)
    expect(r.final.auc).toBeGreaterThan(0.5)
    // At the start (λ = 0 for all) the weights cannot tell them apart.
    expect(r.points[0]!.meanWeightFlipped).toBe(0.5)
    expect(r.points[0]!.meanWeightClean).toBe(0.5)
  })

  it('the clean-subset model beats the corrupted one, and cleaning lowers the validation loss', async () => {
    const r = await result()
    // Training on the clean subset beats training on the corrupted set (validation loss), and
    // cleaning lowers the validation loss below both starts of the outer loop.
    expect(r.clean.value).toBeLessThan(r.corrupted.value)
    expect(r.cleaned.value).toBeLessThan(r.points[0]!.value)
    expect(r.points).toHaveLength(15)
  })
})
