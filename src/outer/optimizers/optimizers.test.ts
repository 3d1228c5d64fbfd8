import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { RVec } from '../../linalg/types.js'
import type { HypergradResult } from '../../hypergrad/types.js'
import { tune, type HyperOracle, type TuneOptions } from '../tune.js'
import { quadraticFg, recordingOracle, resultOf, spdMatrix } from './fixtures.test-util.js'
import { adam, box, chain, gd, hoag, isStop, lbfgs, logScale, optimizerFromConfig, secant, type Evaluation, type OuterOptimizer } from './index.js'

const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}
const leftMessage = <A>(e: E.Either<{ readonly message: string }, A>): string => (E.isLeft(e) ? e.left.message : 'Right')

/** Every optimizer of the library, with and without its transforms (one registry, as optax has). */
const registry = (n: number): ReadonlyArray<OuterOptimizer> => [
  right(gd({ stepSize: 0.1 })),
  right(adam({ stepSize: 0.1 })),
  right(lbfgs()),
  right(hoag({ initialTolerance: 0.1 })),
  ...(n === 1 ? [right(secant())] : []),
  right(chain(lbfgs(), logScale(), box(0.5, 4))),
  right(chain(adam({ stepSize: 0.2 }), box(0.5, 4))),
  right(chain(hoag(), logScale())),
]

/** Drive an optimizer by hand for k evaluations of fg; returns the proposals (and the inputs seen, copied). */
const drive = (opt: OuterOptimizer, x0: RVec, fg: (x: RVec) => { value: number; gradient: Float64Array }, k: number) => {
  const proposals: Float64Array[] = []
  const start = right(opt.init(x0))
  let state = start.state
  let next = start.next
  for (let i = 0; i < k; i++) {
    proposals.push(Float64Array.from(next.x))
    const { value, gradient } = fg(next.x)
    const ev: Evaluation = { x: next.x, value, gradient }
    const snapshot = [Float64Array.from(ev.x), Float64Array.from(ev.gradient)]
    const u = right(opt.update(ev, state))
    // The update never writes to the evaluation it was given.
    expect(Array.from(ev.x)).toEqual(Array.from(snapshot[0]!))
    expect(Array.from(ev.gradient)).toEqual(Array.from(snapshot[1]!))
    if (isStop(u)) break
    state = u.state
    next = u.next
  }
  return proposals
}

describe('every optimizer (the registry)', () => {
  for (const n of [1, 3]) {
    const fg = quadraticFg(spdMatrix(5, n, 10), Float64Array.from({ length: n }, (_, i) => 1 + i))
    for (const opt of registry(n)) {
      it(`${opt.name}, n = ${n}: proposes x₀ first (projected by a box), finite points after, replays bit for bit, leaves its inputs alone`, () => {
        const x0 = new Float64Array(n).fill(2)
        const a = drive(opt, x0, fg, 25)
        const b = drive(opt, x0, fg, 25)
        expect(Array.from(x0)).toEqual(new Array(n).fill(2))
        expect(Array.from(a[0]!)).toEqual(new Array(n).fill(2))
        expect(a.length).toBeGreaterThan(1)
        for (const p of a) expect(p.every(Number.isFinite)).toBe(true)
        expect(a.map((p) => Array.from(p))).toEqual(b.map((p) => Array.from(p)))
      })
    }
  }
})

describe('options out of range are a Left naming the option, never a throw', () => {
  const cases: ReadonlyArray<readonly [string, () => E.Either<{ readonly message: string }, unknown>, RegExp]> = [
    ['gd step 0', () => gd({ stepSize: 0 }), /gd: stepSize must be a number > 0, got 0/],
    ['gd step NaN', () => gd({ stepSize: NaN }), /gd: stepSize/],
    ['adam beta1 = 1', () => adam({ stepSize: 1, beta1: 1 }), /adam: beta1 must be a number in \[0, 1\), got 1/],
    ['adam eps', () => adam({ stepSize: 1, eps: -1 }), /adam: eps/],
    ['lbfgs memory 0', () => lbfgs({ memory: 0 }), /lbfgs: memory must be an integer in \[1, 1000\], got 0/],
    ['lbfgs memory 2.5', () => lbfgs({ memory: 2.5 }), /lbfgs: memory/],
    ['lbfgs c2 < c1', () => lbfgs({ c1: 0.3, c2: 0.2 }), /lbfgs: c2 must be a number in \(0.3, 1\)/],
    ['lbfgs maxStep', () => lbfgs({ maxStep: -1 }), /lbfgs: maxStep/],
    ['lbfgs fNoise', () => lbfgs({ fNoise: 1 }), /lbfgs: fNoise/],
    ['lbfgs xTol', () => lbfgs({ xTol: Infinity }), /lbfgs: xTol/],
    ['hoag tolDecrease 1', () => hoag({ tolDecrease: 1 }), /hoag: tolDecrease must be a number in \(0, 1\), got 1/],
    ['hoag initialTolerance', () => hoag({ initialTolerance: 0 }), /hoag: initialTolerance/],
    ['hoag increase', () => hoag({ increase: 0.5 }), /hoag: increase/],
    ['secant stepSize', () => secant({ stepSize: -2 }), /secant: stepSize/],
    ['box lo = hi', () => chain(gd({ stepSize: 1 }), box(5, 5)), /box: expected lo < hi, got \[5, 5\]/],
    ['box lo > hi', () => chain(gd({ stepSize: 1 }), box(10, 1)), /box: expected lo < hi/],
    ['box NaN', () => chain(gd({ stepSize: 1 }), box(NaN, 1)), /box: expected lo < hi/],
    ['config: unknown optimizer', () => optimizerFromConfig({ optimizer: 'newton' as 'gd' }), /outer\.optimizer: unknown optimizer "newton"/],
    ['config: gd without a step', () => optimizerFromConfig({ optimizer: 'gd' }), /outer\.stepSize is required by gd/],
    ['config: memory for adam', () => optimizerFromConfig({ optimizer: 'adam', stepSize: 1, memory: 5 }), /outer\.memory: not an option of adam/],
    ['config: tolDecrease for lbfgs', () => optimizerFromConfig({ optimizer: 'lbfgs', tolDecrease: 0.5 }), /outer\.tolDecrease: not an option of lbfgs/],
    ['config: empty box', () => optimizerFromConfig({ optimizer: 'lbfgs', bounds: [2, 1] }), /outer\.bounds: empty box \[2, 1\]/],
    ['config: log box at 0', () => optimizerFromConfig({ optimizer: 'lbfgs', logScale: true, bounds: [0, 1] }), /outer\.bounds: with logScale the lower bound must be > 0/],
    ['config: memory out of range', () => optimizerFromConfig({ optimizer: 'lbfgs', memory: 1e6 }), /outer\.memory must be an integer in \[1, 1000\], got 1000000/],
  ]
  for (const [name, make, re] of cases)
    it(name, () => {
      let result: E.Either<{ readonly message: string }, unknown> | undefined
      expect(() => (result = make())).not.toThrow()
      expect(leftMessage(result!)).toMatch(re)
      expect(leftMessage(result!)).not.toMatch(/\n/)
    })

  it('names the transforms in the chained optimizer', () => {
    expect(right(chain(lbfgs(), logScale(), box(1, 2))).name).toBe('box(logScale(lbfgs))')
    expect(right(optimizerFromConfig({ optimizer: 'secant', logScale: true, bounds: [1e-3, 1e3] })).name).toBe('box(logScale(secant))')
  })
})

const result = (gradient: Float64Array, value: number): HypergradResult => resultOf(gradient, value)
/** A diverged result: no gradient and no value, the stage and iteration where it diverged. */
const divergedResult = { ...result(new Float64Array(1), 0), status: 'diverged', gradient: null, value: null, divergedAt: { stage: 'lower', iter: 7 }, reason: 'blow-up' } as unknown as HypergradResult

const allFinite = (x: unknown): boolean =>
  typeof x === 'number' ? Number.isFinite(x) : Array.isArray(x) ? x.every(allFinite) : typeof x === 'object' && x !== null ? Object.values(x).every(allFinite) : true

describe('tune with a faulty oracle or bad options', () => {
  // f = Σ (λ − 3)² + (λ − 3)⁴: not a quadratic, so that every optimizer needs several evaluations.
  const quartic: HyperOracle = ({ lambda }) =>
    E.right(result(lambda.map((l) => 2 * (l - 3) + 4 * (l - 3) ** 3), lambda.reduce((s, l) => s + (l - 3) ** 2 + (l - 3) ** 4, 0)))
  /** The quartic, with the evaluation `at` replaced by `fault`. */
  const faultyAt = (at: number, fault: HypergradResult): HyperOracle => (req) => (req.evaluation === at ? E.right(fault) : quartic(req))
  const optimizers = ['gd', 'adam', 'lbfgs', 'hoag', 'secant'] as const
  const opts = (optimizer: (typeof optimizers)[number]): TuneOptions => ({ optimizer, steps: 30, ...(optimizer === 'gd' || optimizer === 'adam' ? { stepSize: 0.1 } : {}) })

  for (const optimizer of optimizers) {
    it(`${optimizer}: a value of Infinity, a NaN or infinite gradient is a Left naming the step`, () => {
      for (const [at, fault, re] of [
        [0, result(Float64Array.of(1), Infinity), /outer step 0: the oracle returned a non-finite value f = Infinity/],
        [3, result(Float64Array.of(1), Infinity), /outer step \d+: the oracle returned a non-finite value/],
        [2, result(Float64Array.of(NaN), 1), /outer step \d+: the oracle returned a non-finite gradient \(∇f\[0\] = NaN\)/],
        [1, result(Float64Array.of(-Infinity), 1), /outer step 1: the oracle returned a non-finite gradient/],
        [1, result(Float64Array.of(1, 2), 1), /outer step 1: the oracle returned a gradient of length 2 for 1 hyperparameters/],
      ] as const) {
        let r: ReturnType<typeof tune> | undefined
        expect(() => (r = tune(Float64Array.of(1), faultyAt(at, fault), opts(optimizer)))).not.toThrow()
        expect(leftMessage(r!)).toMatch(re)
      }
    })

    it(`${optimizer}: a diverged first evaluation is a Left; a later one ends 'diverged' at the last accepted point, with no NaN or Infinity in the result`, () => {
      const diverged = divergedResult
      expect(leftMessage(tune(Float64Array.of(1), faultyAt(0, diverged), opts(optimizer)))).toMatch(/outer step 0: the hypergradient method diverged at λ = 1 \(lower stage, iteration 7: blow-up\)/)
      const r = right(tune(Float64Array.of(1), faultyAt(3, diverged), opts(optimizer)))
      expect(r.status).toBe('diverged')
      expect(r.divergedAt?.evaluation).toBe(3)
      expect(r.evaluations).toBe(4)
      const last = r.trajectory[r.trajectory.length - 1]!
      expect(Array.from(r.lambda)).toEqual(last.lambda)
      expect(r.value).toBe(last.value)
      expect(allFinite({ ...r, w: Array.from(r.w), lambda: Array.from(r.lambda) })).toBe(true)
    })
  }

  it('rejects bad tune options with a Left naming them', () => {
    const cases: ReadonlyArray<readonly [TuneOptions, RegExp]> = [
      [{ optimizer: 'lbfgs', steps: 1.5 }, /outer\.steps must be an integer ≥ 1, got 1\.5/],
      [{ optimizer: 'lbfgs', steps: 5, maxEvaluations: 0 }, /outer\.maxEvaluations/],
      [{ optimizer: 'lbfgs', steps: 5, gradTol: -1 }, /outer\.gradTol/],
      [{ optimizer: 'lbfgs', steps: 5, fTol: NaN }, /outer\.fTol/],
      [{ optimizer: 'lbfgs', steps: 5, tolerance: 0 }, /outer\.tolerance/],
      [{ optimizer: 'hoag', steps: 5, tolerance: 'adaptive' }, /outer\.tolerance: hoag sets the accuracy of every evaluation itself/],
      [{ optimizer: right(lbfgs()), steps: 5, logScale: true }, /outer\.logScale: set it on the optimizer value/],
      [{ optimizer: right(lbfgs()), steps: 5, bounds: [1, 2] }, /outer\.bounds: set it on the optimizer value/],
      [{ optimizer: 42 as unknown as 'gd', steps: 5 }, /outer\.optimizer: unknown optimizer "42"/],
    ]
    for (const [o, re] of cases) expect(leftMessage(tune(Float64Array.of(1), quartic, o))).toMatch(re)
    expect(leftMessage(tune(new Float64Array(0), quartic, { optimizer: 'lbfgs', steps: 5 }))).toMatch(/lambda: no hyperparameters/)
    expect(leftMessage(tune(Float64Array.of(NaN), quartic, { optimizer: 'lbfgs', steps: 5 }))).toMatch(/lambda\[0\] = NaN is not finite/)
  })

  it('a step of log λ out of the range of e^θ is a Left naming the step', () => {
    const steep: HyperOracle = ({ lambda }) => E.right(result(Float64Array.of(1e6), lambda[0]!))
    expect(leftMessage(tune(Float64Array.of(1), steep, { optimizer: 'gd', stepSize: 1, steps: 5, logScale: true }))).toMatch(
      /outer step 0: logScale: the step took θ\[0\] = -1000000 where λ = e\^θ is 0/,
    )
  })
})

describe('tune: stopping rules and the trajectory', () => {
  const { oracle } = recordingOracle(quadraticFg(spdMatrix(2, 2, 10), Float64Array.of(1, 2)))

  it('stops on gradTol, fTol, steps and maxEvaluations, and says which', () => {
    const g = right(tune(Float64Array.of(0, 0), oracle, { optimizer: 'lbfgs', steps: 100, gradTol: 1e-6 }))
    expect(g.status).toBe('converged')
    expect(g.reason).toMatch(/‖∇̂f‖ = .* ≤ gradTol = 0.000001/)
    const f = right(tune(Float64Array.of(0, 0), oracle, { optimizer: 'gd', stepSize: 0.01, steps: 10_000, fTol: 1e-3 }))
    expect(f.status).toBe('converged')
    expect(f.reason).toMatch(/relative change of f .* ≤ fTol = 0.001/)
    const [a, b] = f.trajectory.slice(-2).map((s) => s.value) as [number, number]
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-3 * Math.max(Math.abs(a), Math.abs(b)))
    const s = right(tune(Float64Array.of(0, 0), oracle, { optimizer: 'adam', stepSize: 0.1, steps: 7 }))
    expect([s.status, s.trajectory.length, s.evaluations]).toEqual(['maxIter', 7, 7])
    const e = right(tune(Float64Array.of(0, 0), oracle, { optimizer: 'lbfgs', steps: 100, maxEvaluations: 4 }))
    expect([e.status, e.evaluations]).toEqual(['maxIter', 4])
    expect(e.reason).toMatch(/maxEvaluations = 4/)
  })

  it('records accepted steps only, with the inner work and oracle calls of the trials they took', () => {
    const { oracle: o, calls } = recordingOracle(quadraticFg(spdMatrix(3, 4, 100), Float64Array.of(1, -1, 2, 0)))
    const r = right(tune(new Float64Array(4), o, { optimizer: 'lbfgs', steps: 100, gradTol: 1e-9 }))
    expect(r.evaluations).toBe(calls.length)
    expect(r.trajectory[r.trajectory.length - 1]!.evaluations).toBe(calls.length)
    // The recording oracle reports t = k = 1 per call: a step's t counts its calls.
    let previous = 0
    for (const s of r.trajectory) {
      expect(s.t).toBe(s.evaluations - previous)
      previous = s.evaluations
    }
    expect(r.trajectory.map((s) => s.step)).toEqual(r.trajectory.map((_, i) => i))
  })
})

describe('tune with an optimizer of the caller', () => {
  it('an optimizer that never accepts a point is stopped by maxEvaluations (default 100·steps)', () => {
    const stuck: OuterOptimizer<number> = {
      name: 'stuck',
      init: (x0) => E.right({ state: 0, next: { x: Float64Array.from(x0) } }),
      update: (ev, s) => E.right({ state: s + 1, accepted: s === 0, gradNorm: 1, next: { x: Float64Array.from(ev.x) } }),
    }
    const { oracle, calls } = recordingOracle((x) => ({ value: x[0]! ** 2, gradient: Float64Array.of(2 * x[0]!) }))
    const r = right(tune(Float64Array.of(1), oracle, { optimizer: stuck, steps: 3 }))
    expect([r.status, r.evaluations, calls.length, r.trajectory.length]).toEqual(['maxIter', 300, 300, 1])
    expect(r.reason).toMatch(/maxEvaluations = 300/)
  })
})
