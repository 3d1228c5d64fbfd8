// The laws tested on themselves: each checker passes on a correct object and fails, naming the
// right law, on one made to violate it. A law that cannot fail proves nothing.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RVec, Vec } from '../src/linalg/types.js'
import { isStochastic, type Batch, type BilevelProblem, type StochasticBilevelProblem } from '../src/problem/bilevel.js'
import { checkLinearSolver, checkLowerSolver, checkProblem, checkScheduleLaws, checkStreamLaws, formatFailures, type LawReport } from '../src/laws/index.js'
import { bitEqual, changedSince, firstDifference, snapshot } from '../src/laws/equal.js'
import { binomial, directional, fdMismatch, subsets } from '../src/laws/numeric.js'
import * as S from '../src/stream/stream.js'
import { constantOrThrow, custom, decreasingOrThrow } from '../src/schedule/schedule.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import type { LinearSolver, LowerSolver } from '../src/solvers/types.js'
import * as E from 'fp-ts/lib/Either.js'
import { hgError } from '../src/errors.js'
import { tamper, tinyQuadratic } from './fixtures.js'
import { seed as seedRng, uniform } from '../src/random/rng.js'

const failed = (r: LawReport): string[] => r.results.filter((x) => !x.ok).map((x) => x.law)
const ok = (r: LawReport, law: string): boolean => r.results.find((x) => x.law === law)?.ok ?? false

const fx = tinyQuadratic()
const base = fx.problem
const opts = { seed: 11, lambda0: fx.lambda0, data: fx.data, numRuns: 10 }

const scaled = (a: number, x: RVec): Vec => x.map((v) => a * v)

describe('equality and snapshots', () => {
  it('bitEqual is exact, NaN-safe, and tells +0 from −0', () => {
    expect(bitEqual(Float64Array.of(NaN, 1), Float64Array.of(NaN, 1))).toBe(true)
    expect(bitEqual(Float64Array.of(0), Float64Array.of(-0))).toBe(false)
    expect(bitEqual(Float64Array.of(0.1 + 0.2), Float64Array.of(0.3))).toBe(false)
    expect(bitEqual({ w: Float64Array.of(1), iter: 2 }, { w: Float64Array.of(1), iter: 2 })).toBe(true)
    expect(bitEqual(Float64Array.of(1), Int32Array.of(1))).toBe(false)
    expect(firstDifference([{ w: Float64Array.of(1, 2) }], [{ w: Float64Array.of(1, 3) }])).toBe('[0].w[1]: 2 vs 3')
  })
  it('snapshot sees a change to any reachable typed array, and only a change', () => {
    const data = { X: { data: Float64Array.of(1, 2, 3) }, y: [Int32Array.of(4)] }
    const s = snapshot(data)
    expect(changedSince(s)).toEqual([])
    data.y[0]![0] = 5
    expect(changedSince(s)).toEqual(['y[0][0]: 4 vs 5'])
  })
})

describe('numerical yardsticks', () => {
  it('subsets enumerates every b-subset once, C(n, b) of them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 8 }), (n, b) => {
        const all = [...subsets(n, b)].map((s) => Array.from(s).join(','))
        expect(all.length).toBe(b > n ? 0 : binomial(n, b))
        expect(new Set(all).size).toBe(all.length)
        for (const s of subsets(n, b)) for (let i = 1; i < s.length; i++) expect(s[i]!).toBeGreaterThan(s[i - 1]!)
      }),
    )
  })
  it('finite differences accept the true derivative of sin and reject a 1e-5 error', () => {
    const f = (x: RVec): Vec => Float64Array.of(Math.sin(x[0]!) * 1e3, Math.exp(x[1]!))
    const x = Float64Array.of(0.7, -0.3)
    const u = Float64Array.of(0.4, -1)
    const jv = Float64Array.of(1e3 * Math.cos(0.7) * 0.4, -Math.exp(-0.3))
    const est = directional(f, x, u)
    expect(fdMismatch(jv, est, { rtol: 1e-6, atol: 1e-10 })).toBeUndefined()
    expect(fdMismatch(scaled(1 + 1e-5, jv), est, { rtol: 1e-6, atol: 1e-10 })).toBeDefined()
  })
})

describe('checkProblem', () => {
  it('passes on the correct fixture, with every law run', () => {
    const r = checkProblem(base, opts)
    expect(formatFailures(r)).toBe('')
    expect(r.ok).toBe(true)
    expect(r.results.map((x) => x.law)).toEqual(
      expect.arrayContaining(['fd.jvpW', 'fd.jvpLambda', 'fd.gradUpperW', 'fd.gradUpperLambda', 'adjoint.W', 'adjoint.Lambda', 'symmetry', 'contraction', 'purity', 'replay', 'stochastic.unbiased', 'stochastic.separable']),
    )
    expect(r.results.filter((x) => x.skipped)).toEqual([])
  })

  // Each broken variant must fail the named laws.
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, ReadonlyArray<string>]> = [
    ['jvpW off by 1e-5', { jvpW: (w: RVec, l: RVec, u: RVec) => scaled(1 + 1e-5, base.jvpW(w, l, u)) }, ['fd.jvpW', 'adjoint.W']],
    ['vjpW transposed wrongly (sign)', { vjpW: (w: RVec, l: RVec, v: RVec) => scaled(-1, base.vjpW(w, l, v)) }, ['adjoint.W']],
    ['jvpLambda with a wrong sign', { jvpLambda: (w: RVec, l: RVec, m: RVec) => scaled(-1, base.jvpLambda(w, l, m)) }, ['fd.jvpLambda', 'adjoint.Lambda']],
    ['gradUpperW off by 1e-4', { gradUpperW: (w: RVec, l: RVec) => scaled(1 + 1e-4, base.gradUpperW(w, l)) }, ['fd.gradUpperW']],
    ['gradUpperLambda missing its term', { gradUpperLambda: (_w: RVec, l: RVec) => new Float64Array(l.length) }, ['fd.gradUpperLambda']],
    ['q understated', { contraction: (l: RVec) => 0.5 * base.contraction(l) }, ['contraction']],
    ['q ≥ 1', { contraction: () => 1 }, ['domain']],
    [
      'phi writes to w',
      {
        phi(w: RVec, l: RVec) {
          const out = base.phi(w, l)
          ;(w as Vec)[0] = w[0]! + 1
          return out
        },
      },
      ['purity'],
    ],
    ['jvpW returns a workspace', (() => { const ws = new Float64Array(base.dim); return { jvpW: (w: RVec, l: RVec, u: RVec) => (ws.set(base.jvpW(w, l, u)), ws) } })(), ['purity']],
    ['upper is not deterministic', (() => { let k = 0; return { upper: (w: RVec, l: RVec) => base.upper(w, l) + (k++ % 2) * 1e-14 } })(), ['replay']],
    ['symmetric claimed, ∂₁Φ not symmetric', {
      phi: (w: RVec, l: RVec) => { const o = base.phi(w, l); o[0] = o[0]! + 0.05 * w[1]!; return o },
      jvpW: (w: RVec, l: RVec, u: RVec) => { const o = base.jvpW(w, l, u); o[0] = o[0]! + 0.05 * u[1]!; return o },
      vjpW: (w: RVec, l: RVec, v: RVec) => { const o = base.vjpW(w, l, v); o[1] = o[1]! + 0.05 * v[0]!; return o },
    }, ['symmetry']],
    ['phiHat biased on sample 0', {
      phiHat: (w: RVec, l: RVec, b: Batch) => { const o = base.phiHat(w, l, b); const c = b.filter((i) => i === 0).length / b.length; o[0] = o[0]! + 1e-6 * c; return o },
    }, ['stochastic.unbiased']],
    ['vjpLambdaHat ignores the batch convention', {
      vjpLambdaHat: (w: RVec, l: RVec, b: Batch, v: RVec) => scaled(b.length, base.vjpLambdaHat(w, l, b, v)),
    }, ['stochastic.batchAverage', 'stochastic.separable', 'stochastic.fd.vjpLambdaHat']],
    ['jvpWHat not the derivative of phiHat', { jvpWHat: (w: RVec, l: RVec, _b: Batch, u: RVec) => base.jvpW(w, l, u) }, ['stochastic.fd.jvpWHat']],
    ['separable claimed, ∂₂Φ̂ depends on the batch', {
      separable: true,
      phiHat: (w: RVec, l: RVec, b: Batch) => { const o = base.phiHat(w, l, b); const c = b.filter((i) => i === 1).length / b.length; o[0] = o[0]! + 0.01 * l[0]! * (c - 1 / base.nSamples); return o },
      vjpLambdaHat: (w: RVec, l: RVec, b: Batch, v: RVec) => { const o = base.vjpLambdaHat(w, l, b, v); const c = b.filter((i) => i === 1).length / b.length; o[0] = o[0]! + 0.01 * v[0]! * (c - 1 / base.nSamples); return o },
    }, ['stochastic.separable']],
  ]
  for (const [what, overrides, laws] of cases)
    it(`fails ${laws.join(', ')} when ${what}`, () => {
      const r = checkProblem(tamper(base, overrides), { ...opts, numRuns: 10 })
      expect(r.ok).toBe(false)
      for (const law of laws) expect(failed(r), `${what}: ${formatFailures(r)}`).toContain(law)
      // the laws that the change does not touch still hold
      expect(ok(r, 'domain') || laws.includes('domain')).toBe(true)
    })

  it('reports a shrunk counterexample with a replayable { seed, path }', () => {
    const broken = tamper(base, { jvpW: (w: RVec, l: RVec, u: RVec) => scaled(1 + 1e-5, base.jvpW(w, l, u)) })
    const r = checkProblem(broken, { ...opts, skip: ['purity', 'replay'] })
    const f = r.results.find((x) => x.law === 'fd.jvpW')!
    expect(f.ok).toBe(false)
    expect(f.path).toBeDefined()
    expect(Array.isArray(f.counterexample)).toBe(true)
    const again = checkProblem(broken, { ...opts, paths: { 'fd.jvpW': f.path! } }).results.find((x) => x.law === 'fd.jvpW')!
    expect(again.ok).toBe(false)
    expect(bitEqual(again.counterexample, f.counterexample)).toBe(true)
    expect(r.results.find((x) => x.law === 'purity')!.skipped).toBe(true)
  })

  it('reports a λ₀ outside the domain instead of running', () => {
    const r = checkProblem(base, { ...opts, lambda0: Float64Array.of(-1, 1, 1) })
    expect(failed(r)).toEqual(['domain'])
  })

  it('checks a deterministic (non-stochastic) problem without the stochastic laws', () => {
    const det: BilevelProblem = {
      name: 'det', dim: base.dim, hyperDim: base.hyperDim, symmetric: true,
      checkLambda: (l) => base.checkLambda(l), contraction: (l) => base.contraction(l),
      phi: (w, l) => base.phi(w, l), jvpW: (w, l, u) => base.jvpW(w, l, u), vjpW: (w, l, v) => base.vjpW(w, l, v),
      jvpLambda: (w, l, m) => base.jvpLambda(w, l, m), vjpLambda: (w, l, v) => base.vjpLambda(w, l, v),
      upper: (w, l) => base.upper(w, l), gradUpperW: (w, l) => base.gradUpperW(w, l), gradUpperLambda: (w, l) => base.gradUpperLambda(w, l),
    }
    const r = checkProblem(det, opts)
    expect(r.ok).toBe(true)
    expect(r.results.some((x) => x.law.startsWith('stochastic.'))).toBe(false)
  })
})

describe('stream laws', () => {
  const iterateStream = (x0: number) => S.iterate(x0, (x) => x / 2 + 1)
  it('hold for iterate', () => {
    const r = checkStreamLaws(iterateStream, fc.double({ noNaN: true }), { seed: 3 })
    expect(formatFailures(r)).toBe('')
  })
  it('replay fails on a one-shot generator (an iterable that shares its state)', () => {
    const oneShot = (n: number): S.Stream<number> => (function* () { for (let i = 0; ; i++) yield i * n })()
    const r = checkStreamLaws(oneShot, fc.integer({ min: 1, max: 9 }), { seed: 3 })
    expect(failed(r)).toContain('stream.replay')
  })
  it('determinism fails on a stream that reads a global counter', () => {
    let calls = 0
    const leaky = (_: number): S.Stream<number> => S.repeat(calls++)
    expect(failed(checkStreamLaws(leaky, fc.integer(), { seed: 3 }))).toContain('stream.determinism')
  })
  it('schedule laws hold for constant and decreasing, and fail when at(t) disagrees with the stream', () => {
    expect(checkScheduleLaws((eta: number) => constantOrThrow(eta), fc.double({ min: 1e-3, max: 10, noNaN: true }), { seed: 4 }).ok).toBe(true)
    expect(checkScheduleLaws(([b, g]: [number, number]) => decreasingOrThrow(b, g), fc.tuple(fc.double({ min: 0.1, max: 10, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true })), { seed: 4 }).ok).toBe(true)
    const liar = (eta: number) => ({ ...custom((t) => eta / (1 + t)), at: (t: number) => eta / (2 + t) })
    expect(failed(checkScheduleLaws(liar, fc.double({ min: 1e-3, max: 10, noNaN: true }), { seed: 4 }))).toContain('schedule.at')
    expect(failed(checkScheduleLaws(() => custom((t) => 1 - t / 100), fc.constant(0), { seed: 4 }))).toContain('schedule.positive')
  })
})

// A minimal correct lower solver (plain fixed-point iteration) and a stochastic one (SGD with a
// constant step 1/2), written here independently of src/solvers to test the solver laws.
const residualAt = (p: BilevelProblem, lambda: RVec, w: RVec): number => Math.hypot(...p.phi(w, lambda).map((x, i) => x - w[i]!))
const fp: LowerSolver = {
  kind: 'lower',
  name: 'fp-test',
  stochastic: false,
  check: () => E.right(undefined),
  init: ({ problem, lambda }, w0, rng) => ({ w: Float64Array.from(w0), iter: 0, rng, residual: residualAt(problem, lambda, w0), counts: { phi: 1, jacW: 0, jacLambda: 0 } }),
  step: ({ problem, lambda }, s) => {
    const w = problem.phi(s.w, lambda)
    return { w, iter: s.iter + 1, rng: s.rng, residual: residualAt(problem, lambda, w), counts: { phi: s.iter + 2, jacW: 0, jacLambda: 0 } }
  },
}
const sgdTest: LowerSolver = {
  kind: 'lower',
  name: 'sgd-test',
  stochastic: true,
  check: (p) => (isStochastic(p) ? E.right(undefined) : E.left(hgError('config', 'sgd-test needs a stochastic problem'))),
  init: (_ctx, w0, rng) => ({ w: Float64Array.from(w0), iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }),
  step: ({ problem, lambda }, s) => {
    const sp = problem as StochasticBilevelProblem
    const [u, rng] = uniform(s.rng)
    const out = sp.phiHat(s.w, lambda, Int32Array.of(Math.floor(u * sp.nSamples)))
    return { w: out.map((x, j) => 0.5 * (x + s.w[j]!)), iter: s.iter + 1, rng, counts: { phi: (s.iter + 1) / sp.nSamples, jacW: 0, jacLambda: 0 } }
  },
}

describe('solver laws', () => {
  it('hold for a correct fixed-point iteration and a correct SGD', () => {
    const r1 = checkLowerSolver(fp, base, fx.lambda0, { seed: 5, data: fx.data })
    expect(formatFailures(r1)).toBe('')
    expect(r1.results.find((x) => x.law === 'solver.convergence')!.skipped).toBeUndefined()
    const r2 = checkLowerSolver(sgdTest, base, fx.lambda0, { seed: 5 })
    expect(formatFailures(r2)).toBe('')
  })
  it('catch a solver that writes into the state it was given', () => {
    const inPlace: LowerSolver = {
      ...fp,
      step: ({ problem, lambda }, s) => {
        s.w.set(problem.phi(s.w, lambda))
        return { ...s, iter: s.iter + 1 }
      },
    }
    expect(failed(checkLowerSolver(inPlace, base, fx.lambda0, { seed: 5 }))).toContain('solver.purity')
  })
  it('catch a solver whose state lives outside its states (stepping a state twice differs)', () => {
    let calls = 0
    const hidden: LowerSolver = { ...fp, step: (ctx, s) => ({ ...fp.step(ctx, s), counts: { phi: calls++, jacW: 0, jacLambda: 0 } }) }
    expect(failed(checkLowerSolver(hidden, base, fx.lambda0, { seed: 5 }))).toContain('solver.values')
  })
  it('catch a first state that is not the start, a stale residual, and a diverging step', () => {
    const skipStart: LowerSolver = { ...fp, init: (ctx, w0, rng) => fp.step(ctx, fp.init(ctx, w0, rng)) }
    expect(failed(checkLowerSolver(skipStart, base, fx.lambda0, { seed: 5 }))).toContain('solver.start')
    const stale: LowerSolver = { ...fp, step: (ctx, s) => ({ ...fp.step(ctx, s), residual: (s.residual ?? 0) * 1.5 }) }
    expect(failed(checkLowerSolver(stale, base, fx.lambda0, { seed: 5 }))).toContain('solver.residual')
    const wild: LowerSolver = {
      ...fp,
      step: ({ problem, lambda }, s) => {
        const { residual: _r, ...rest } = s
        return { ...rest, w: problem.phi(s.w, lambda).map((x, i) => 3 * x - 2 * s.w[i]!), iter: s.iter + 1 }
      },
    }
    expect(failed(checkLowerSolver(wild, base, fx.lambda0, { seed: 5, steps: 40 }))).toContain('solver.convergence')
  })
  it('catch a stochastic solver that ignores its seed, and a deterministic one that uses it', () => {
    const seedless: LowerSolver = { ...sgdTest, init: (ctx, w0) => sgdTest.init(ctx, w0, seedRng(1)) }
    expect(failed(checkLowerSolver(seedless, base, fx.lambda0, { seed: 5 }))).toContain('solver.seeds')
    const seeded: LowerSolver = { ...sgdTest, stochastic: false }
    expect(failed(checkLowerSolver(seeded, base, fx.lambda0, { seed: 5 }))).toContain('solver.seeds')
  })
  it('report a solver whose own check refuses the problem as the one failed law', () => {
    const refuses: LowerSolver = { ...fp, check: () => E.left(hgError('domain', 'fp-test: η must be positive')) }
    expect(failed(checkLowerSolver(refuses, base, fx.lambda0, { seed: 5 }))).toEqual(['solver.check'])
  })
  it('linear laws hold for v ← (I − A)v + b and catch one that mutates its start', () => {
    const build = () => linearSystemAt(base, fx.lambda0, base.solution(fx.lambda0))
    const fpl: LinearSolver = {
      kind: 'linear',
      name: 'fpl-test',
      stochastic: false,
      check: () => E.right(undefined),
      init: (_sys, v0, rng) => ({ v: Float64Array.from(v0), iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }),
      step: (sys, s) => {
        const av = sys.matvec(s.v)
        return { v: s.v.map((x, i) => x - av[i]! + sys.rhs[i]!), iter: s.iter + 1, rng: s.rng, counts: { phi: 0, jacW: s.iter + 1, jacLambda: 0 } }
      },
    }
    expect(formatFailures(checkLinearSolver(fpl, build, { seed: 6 }))).toBe('')
    const rude: LinearSolver = {
      ...fpl,
      init: (sys, v0, r) => {
        ;(v0 as Vec).fill(0)
        return fpl.init(sys, v0, r)
      },
    }
    expect(failed(checkLinearSolver(rude, build, { seed: 6 }))).toContain('solver.purity')
  })
})
