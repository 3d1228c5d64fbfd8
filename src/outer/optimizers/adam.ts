/** Adam (Kingma & Ba 2015, Algorithm 1) with bias correction; every evaluation is accepted. */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import type { Vec } from '../../linalg/types.js'
import { norm } from '../../linalg/vector.js'
import { named, option, requiredStep, POSITIVE, type Label } from './options.js'
import type { OuterOptimizer } from './types.js'

export interface AdamOptions {
  /** The step α > 0. */
  readonly stepSize: number
  /** Decay of the first moment, in [0, 1); default 0.9. */
  readonly beta1?: number
  /** Decay of the second moment, in [0, 1); default 0.999. */
  readonly beta2?: number
  /** Added to √v̂; default 1e-8. */
  readonly eps?: number
}

/** The step count and the moment estimates (empty before the first step). */
export interface AdamState {
  readonly count: number
  readonly m: Vec
  readonly v: Vec
}

export const makeAdam = (opts: Partial<AdamOptions>, label: Label): E.Either<HypergradError, OuterOptimizer<AdamState>> =>
  pipe(
    E.Do,
    E.apS('step', requiredStep(label, 'stepSize', opts.stepSize, 'adam')),
    E.apS('b1', option(label, 'beta1', opts.beta1, 0.9, { min: 0, max: 1, openMax: true })),
    E.apS('b2', option(label, 'beta2', opts.beta2, 0.999, { min: 0, max: 1, openMax: true })),
    E.apS('eps', option(label, 'eps', opts.eps, 1e-8, POSITIVE)),
    E.map(({ step, b1, b2, eps }): OuterOptimizer<AdamState> => ({
      name: 'adam',
      init: (x0) => E.right({ state: { count: 0, m: new Float64Array(x0.length), v: new Float64Array(x0.length) }, next: { x: Float64Array.from(x0) } }),
      update: (ev, s) => {
        const g = ev.gradient
        const n = g.length
        const m = new Float64Array(n)
        const v = new Float64Array(n)
        const x = new Float64Array(n)
        const count = s.count + 1
        const c1 = 1 - b1 ** count
        const c2 = 1 - b2 ** count
        for (let i = 0; i < n; i++) {
          m[i] = b1 * s.m[i]! + (1 - b1) * g[i]!
          v[i] = b2 * s.v[i]! + (1 - b2) * g[i]! * g[i]!
          x[i] = ev.x[i]! + (-step * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps)
        }
        return E.right({ state: { count, m, v }, accepted: true, gradNorm: norm(g), next: { x } })
      },
    })),
  )

/** Adam with step α (a Left when an option is out of range). */
export const adam = (opts: AdamOptions): E.Either<HypergradError, OuterOptimizer<AdamState>> => makeAdam(opts, named('adam'))
