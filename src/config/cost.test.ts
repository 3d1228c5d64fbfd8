import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aidCost, checkCharges, exactCost, itdCost, presetSteps, SPEED, STATE_BYTES, type Charge, type Limits } from './cost.js'
import { formatBytes, formatCount, formatSeconds, machineResources } from './resources.js'

const limits: Limits = { resources: { memoryBytes: 1e9, heapBytes: 5e8, cores: 2 }, maxSeconds: 3600 }
const charge = (field: string, value: number, seconds: number, bytes: number, heapBytes = 0): Charge => ({ field, value, cost: { seconds, bytes, heapBytes } })
const left = (e: E.Either<{ readonly message: string }, unknown>): string => (E.isLeft(e) ? e.left.message : 'Right')

describe('checkCharges', () => {
  it('passes what fits and returns the total', () => {
    expect(checkCharges([charge('a', 1, 10, 1e8), charge('b', 2, 20, 2e8, 1e8)], limits)).toEqual(E.right({ seconds: 30, bytes: 3e8, heapBytes: 1e8 }))
  })
  it('names the count that weighs most on the limit passed, with the estimate and the limit', () => {
    expect(left(checkCharges([charge('config.method.t', 1e12, 1, 9e8), charge('config.method.k', 3, 1, 2e8)], limits))).toBe(
      'config.method.t = 1e12: the run needs about 1.1 GB of memory; 1.0 GB is available',
    )
    expect(left(checkCharges([charge('x', 1, 1, 6e8, 6e8)], limits))).toBe('x = 1: the run needs about 600 MB of JavaScript heap; the heap can grow by 500 MB')
    expect(left(checkCharges([charge('steps', 1e9, 5000, 1), charge('t', 7, 10, 1)], limits))).toBe(
      'steps = 1e9: the run is estimated at 1.4 h of computing; the limit is 1.0 h (--max-hours)',
    )
    expect(left(checkCharges([charge('t', 1, NaN, 1)], limits))).toMatch(/^t = 1: the run is estimated at forever/)
  })
})

describe('the cost model', () => {
  const s = { rows: 5000, cols: 784, nnz: 5000 * 784, hyper: 1 }
  it('ITD reverse keeps its t iterates; truncation keeps K; forward mode the d × m Jacobian', () => {
    expect(itdCost(s, 1000, 'reverse').bytes).toBeGreaterThanOrEqual(1000 * (8 * 784 + STATE_BYTES.bytes))
    expect(itdCost(s, 1000, 'reverse', 10).bytes).toBeLessThan(itdCost(s, 1000, 'reverse').bytes / 40)
    expect(itdCost({ ...s, hyper: 784 }, 10, 'forward').bytes).toBeGreaterThanOrEqual(8 * 784 * 784)
  })
  it('exact holds d × d matrices; AID holds O(d) and a residual per step', () => {
    expect(exactCost(s).bytes).toBeGreaterThanOrEqual(8 * 784 * 784)
    expect(aidCost(s, 100, 100).bytes).toBeLessThan(8 * 784 * 20)
  })
  it('time: below the best measured times (docs/performance.md), so that a refusal is never early', () => {
    // A full logistic gradient on 5000 × 784: 1.43 ms; the dense Hessian and its Cholesky factor: 180 ms.
    const onePass = aidCost(s, 1, 0).seconds
    expect(onePass).toBeLessThanOrEqual(1.43e-3)
    expect(onePass).toBeGreaterThanOrEqual(s.nnz / SPEED.entriesPerSecond)
    expect(exactCost(s).seconds).toBeLessThanOrEqual(0.18)
  })
  it('a SID preset: one full step per epoch for batch, round(n/b) minibatch steps otherwise', () => {
    expect(presetSteps(s, 'batch', 60, 50)).toEqual({ steps: 60, full: true })
    expect(presetSteps(s, 'stochDec', 60, 50)).toEqual({ steps: 6000, full: false })
  })
})

describe('resources and units', () => {
  it('reads the machine', () => {
    const r = machineResources()
    expect(r.cores).toBeGreaterThanOrEqual(1)
    expect(r.memoryBytes).toBeGreaterThan(0)
    expect(r.heapBytes).toBeGreaterThan(0)
  })
  it('states sizes, durations and counts as a person reads them', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(2.5e9), formatBytes(7.04e14), formatBytes(Infinity)]).toEqual(['999 B', '1.5 KB', '2.5 GB', '704 TB', 'unbounded memory'])
    expect([formatSeconds(4.2), formatSeconds(125), formatSeconds(3 * 3600), formatSeconds(5 * 86400), formatSeconds(1e12)]).toEqual(['4.2 s', '2.1 min', '3.0 h', '5.0 days', '3e+4 years'])
    expect([formatCount(12345), formatCount(1e12), formatCount(1.5e9), formatCount(2 ** 53)]).toEqual(['12345', '1e12', '1.5e9', '9.007199254740992e15'])
  })
})
