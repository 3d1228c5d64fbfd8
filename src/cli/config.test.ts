import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aidConfig } from './config.test-util.js'
import { decodeEstimateConfig, decodeTuneConfig, outerOptimizers } from './config.js'

const base = aidConfig({ lambda: 1.0, t: 500, k: 500 })
const messageOf = (u: unknown): string => {
  const r = decodeEstimateConfig(u)
  if (E.isRight(r)) throw new Error('expected a decoding error')
  return r.left.message
}

describe('estimate config', () => {
  it('decodes the contract example', () => {
    const r = decodeEstimateConfig(base)
    expect(E.isRight(r) && r.right.method.name).toBe('aid')
  })
  it('decodes MNIST data and a SID preset', () => {
    const r = decodeEstimateConfig({ ...base, data: { mnist: { nTrain: 5000, nVal: 5000, seed: 0 } }, method: { name: 'sid', preset: 'stochDec', epochs: 60 } })
    expect(E.isRight(r)).toBe(true)
  })
  it('names the field at fault, on one line', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, problem: undefined }, /^config\.problem: expected a problem .*got nothing/],
      [{ ...base, lambda: 'big' }, /^config\.lambda: /],
      [{ ...base, method: { name: 'magic' } }, /^config\.method\.name: expected a method name/],
      [{ ...base, method: { ...base.method, t: -3 } }, /^config\.method\.t: expected an integer ≥ 0, got -3/],
      [{ ...base, method: { ...base.method, linear: 'qr' } }, /^config\.method\.linear: expected a linear solver/],
      [{ ...base, data: { train: 'a' } }, /^config\.data\.validation: /],
      [{ ...base, data: { mnist: { nTrain: 0 } } }, /^config\.data\.mnist\.nTrain: expected an integer ≥ 1/],
      [{ ...base, lambda: [1, 'x'] }, /^config\.lambda/],
      [[], /^config: /],
    ]
    for (const [cfg, re] of cases) {
      const m = messageOf(cfg)
      expect(m).toMatch(re)
      expect(m).not.toContain('\n')
    }
  })
  it('tune configs need a valid outer object', () => {
    const ok = decodeTuneConfig({ ...base, outer: { optimizer: 'adam', steps: 300, stepSize: 0.05, logScale: true } })
    expect(E.isRight(ok)).toBe(true)
    for (const optimizer of ['lbfgs', 'hoag', 'secant']) expect(E.isRight(decodeTuneConfig({ ...base, outer: { optimizer, steps: 30, logScale: true, gradTol: 1e-8 } }))).toBe(true)
    const bad = [
      [{ optimizer: 'newton', steps: 3, stepSize: 0.1 }, /^config\.outer\.optimizer/],
      [{ optimizer: 'gd', steps: 3 }, /^config\.outer\.stepSize: gd needs a step size/],
      [{ optimizer: 'lbfgs', steps: 3, memory: 0 }, /^config\.outer\.memory/],
      [{ optimizer: 'gd', steps: 3, stepSize: 0 }, /^config\.outer\.stepSize: expected a positive number/],
      [{ optimizer: 'gd', steps: 3, stepSize: 0.1, bounds: [2, 1] }, /^config\.outer\.bounds/],
    ] as const
    for (const [outer, re] of bad) {
      const r = decodeTuneConfig({ ...base, outer })
      expect(E.isLeft(r) && r.left.message).toMatch(re)
    }
  })
})

describe('strict configs', () => {
  const left = (r: E.Either<{ readonly message: string }, unknown>): string => (E.isLeft(r) ? r.left.message : 'Right')
  const tuneBase = { ...base, outer: { optimizer: 'adam', steps: 3, stepSize: 0.1 } }
  it('rejects an unknown field at every level, naming the field meant', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...base, regularisation: 'perFeature' }, 'config.regularisation: unknown field; did you mean "regularization"?'],
      [{ ...base, method: { ...base.method, tolLinera: 1e-3 } }, 'config.method.tolLinera: unknown field; did you mean "tolLinear"?'],
      [{ ...base, method: { name: 'itd', t: 10, truncte: 3 } }, 'config.method.truncte: unknown field; did you mean "truncate"?'],
      [{ ...base, method: { name: 'exact', t: 3 } }, 'config.method.t: unknown field (fields: name)'],
      [{ ...base, method: { name: 'sid', lower: 'sgd', linear: 'sfp', t: 1, k: 1, step: { beta: 1, gama: 1 } } }, 'config.method.step.gama: unknown field; did you mean "gamma"?'],
      [{ ...base, data: { train: 'a', validation: 'b', nfeatures: 3 } }, 'config.data.nfeatures: unknown field; did you mean "nFeatures"?'],
      [{ ...base, data: { mnist: { nTrain: 10, seeed: 1 } } }, 'config.data.mnist.seeed: unknown field; did you mean "seed"?'],
    ]
    for (const [cfg, m] of cases) expect(left(decodeEstimateConfig(cfg))).toBe(m)
    expect(left(decodeTuneConfig({ ...tuneBase, outer: { ...tuneBase.outer, warmStart: { lower: true, linear: true, both: true } } }))).toBe(
      'config.outer.warmStart.both: unknown field (fields: lower, linear)',
    )
  })
  it('refuses settings that contradict each other or that nothing would read', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, method: { name: 'sid', preset: 'batch', epochs: 2, linear: 'sfp' } }, /^config\.method: "preset" sets the solvers, steps and t, k of SID, and "linear" is given too; drop "linear" or drop "preset"$/],
      [{ ...base, data: { mnist: {}, nFeatures: 3 } }, /^config\.data: "mnist" and "nFeatures" name two data sources; keep one$/],
      [{ ...base, method: { ...base.method, lower: 'gd', linear: 'cg', momentum: 0.5 } }, /^config\.method\.momentum: /],
      [{ ...base, method: { name: 'sid', lower: 'gd', linear: 'fp', t: 1, k: 1, batchSize: 5 } }, /^config\.method\.batchSize: lower "gd" and linear "fp" draw no minibatches$/],
      [{ ...base, problem: 'dataCleaning', regularization: 'perFeature' }, /^config\.regularization: the dataCleaning problem has one λ per training sample/],
      [{ ...base, problem: 'softmaxCleaning', regularization: 'scalar' }, /^config\.regularization: the softmaxCleaning problem has one λ per training sample; drop "regularization"$/],
      [{ ...base, problem: 'ridge', regularization: 'perClass' }, /^config\.regularization: "perClass" \(one λ per class\) is for the softmax problem; problem "ridge" has no classes/],
      [{ ...base, problem: 'softmax', rho: 2 }, /^config\.rho: the ridge weight of the dataCleaning problem and of softmaxCleaning; problem "softmax" has none$/],
    ]
    for (const [cfg, re] of cases) expect(left(decodeEstimateConfig(cfg))).toMatch(re)
    expect(left(decodeTuneConfig({ ...tuneBase, lambda: [1, 0], regularization: 'perFeature', outer: { ...tuneBase.outer, logScale: true } }))).toBe(
      'config.lambda.1: logScale optimizes log λ and needs λ > 0, got 0',
    )
  })
  it('decodes the softmax problems: perClass and the per-sample ρ', () => {
    const soft = decodeEstimateConfig({ ...base, problem: 'softmax', regularization: 'perClass', lambda: [1, 2, 3] })
    expect(E.isRight(soft) && [soft.right.problem, soft.right.regularization]).toEqual(['softmax', 'perClass'])
    const { regularization: _r, ...noReg } = base
    const clean = decodeEstimateConfig({ ...noReg, problem: 'softmaxCleaning', rho: 0.5, data: { mnist: { nTrain: 100, nVal: 100 } } })
    expect(E.isRight(clean) && clean.right.rho).toBe(0.5)
  })
  it('names every outer optimizer in one list', () => {
    for (const name of Object.keys(outerOptimizers)) expect(E.isRight(decodeTuneConfig({ ...tuneBase, outer: { ...tuneBase.outer, optimizer: name } }))).toBe(true)
    expect(left(decodeTuneConfig({ ...tuneBase, outer: { ...tuneBase.outer, optimizer: 'newton' } }))).toBe(
      `config.outer.optimizer: expected an optimizer (one of ${Object.keys(outerOptimizers).map((n) => `"${n}"`).join(', ')}), got "newton"`,
    )
  })
})

