/**
 * The costs of what a config asks for, checked before any work (src/config/cost.ts): each
 * count of the method (t, k, epochs) and of the outer loop (steps) is charged from the data's
 * sizes, and a run that would not fit in memory or would take longer than the time limit is
 * refused with the count, the estimate and the limit.
 */
import { aidCost, exactCost, finalDrawCost, itdCost, presetCost, presetSteps, sidCost, SPEED, workSeconds, type Charge, type Cost, type Sizes } from '../config/cost.js'
import type { MethodConfig, OuterConfig } from './config.js'
import { resolveAuto } from './methods.js'

/** The charges of one hypergradient by `method` on a problem of the given sizes. */
export const methodCharges = (given: MethodConfig, s: Sizes): Charge[] => {
  const at = (k: string) => `config.method.${k}`
  const method = resolveAuto(given, s.cols)
  switch (method.name) {
    case 'exact':
      return [{ field: 'config.method.name', value: 'exact', cost: exactCost(s), holds: `the dense ${s.cols} × ${s.cols} system and its factor` }]
    case 'itd': {
      const mode = method.mode ?? 'reverse'
      const kept = Math.min(method.truncate ?? method.t, method.t)
      return [
        {
          field: at('t'),
          value: method.t,
          cost: itdCost(s, method.t, mode, method.truncate),
          holds: mode === 'reverse' ? `ITD reverse keeps ${kept} iterates of ${s.cols} numbers` : `ITD forward carries the ${s.cols} × ${s.hyper} Jacobian`,
        },
      ]
    }
    case 'aid': {
      // A Newton-CG step costs up to min(2d, 1000) Hessian-vector products and a few passes; an L-BFGS step a few passes.
      const perStep = method.lower === 'newtonCg' ? Math.min(2 * s.cols, 1000) + 4 : method.lower === 'lbfgs' ? 4 : 1
      const c = aidCost(s, method.t * perStep, method.k)
      const share = method.t + method.k === 0 ? 1 : method.t / (method.t + method.k)
      const part = (x: Cost, f: number): Cost => ({ seconds: x.seconds * f, bytes: x.bytes * f, heapBytes: x.heapBytes * f })
      return [
        { field: at('t'), value: method.t, cost: part(c, share), holds: 'the residual of every step' },
        { field: at('k'), value: method.k, cost: part(c, 1 - share), holds: 'the residual of every step' },
      ]
    }
    case 'sid': {
      const b = method.batchSize ?? 50
      if ('preset' in method) return [{ field: at('epochs'), value: method.epochs, cost: presetCost(s, method.preset, method.epochs, b) }]
      const saga = method.lower === 'saga'
      const f = method.finalSamples
      const final: Charge[] =
        typeof f === 'number' ? [{ field: at('finalSamples'), value: f, cost: finalDrawCost(s, f, b) }] : f === 'exact' ? [{ field: at('finalSamples'), value: f, cost: finalDrawCost(s, 1, s.rows) }] : []
      return [
        { field: at('t'), value: method.t, cost: sidCost(s, method.t, 0, b, { saga }), ...(saga ? { holds: `SAGA keeps a ${s.rows} × ${s.cols} table of gradients` } : {}) },
        { field: at('k'), value: method.k, cost: { ...sidCost(s, 0, method.k, b), bytes: 0 } },
        ...final,
      ]
    }
  }
}

/** Steps of the lower solver a method runs (for the time note). */
export const methodSteps = (given: MethodConfig, s: Sizes): number => {
  const method = resolveAuto(given, s.cols)
  switch (method.name) {
    case 'exact':
      return 1
    case 'itd':
      return method.t
    case 'aid':
      return method.t + method.k
    case 'sid':
      return 'preset' in method ? presetSteps(s, method.preset, method.epochs, method.batchSize ?? 50).steps : method.t + method.k
  }
}

/**
 * The charges of a tune run: `steps` hypergradients (the method's cost each; warm starts may
 * make them cheaper, the caps are what is promised), and the trajectory it keeps: λ and a few
 * numbers per step.
 */
export const tuneCharges = (method: MethodConfig, outer: OuterConfig, s: Sizes): Charge[] => {
  const one = methodCharges(method, s)
  const per = one.reduce((a, c) => a + c.cost.seconds, 0)
  const peak = one.reduce((a, c) => a + c.cost.bytes, 0)
  const heapPeak = one.reduce((a, c) => a + c.cost.heapBytes, 0)
  // Each step records λ (m numbers, in an array on the heap, then in the printed JSON) and about
  // 20 numbers, and rebuilds the problem.
  const trajectory = 40 * s.hyper + 600
  return [
    {
      field: 'config.outer.steps',
      value: outer.steps,
      cost: {
        seconds: outer.steps * (per + workSeconds(2 * s.nnz, 0) + SPEED.secondsPerOuterStep),
        bytes: peak + outer.steps * trajectory,
        heapBytes: heapPeak + outer.steps * trajectory,
      },
      holds: `the trajectory keeps λ (${s.hyper} numbers) at every step`,
    },
  ]
}
