/**
 * SID epochs on MNIST (odd/even, 5000 × 784, scalar λ = 1), as in the SID paper's §6 and its
 * Fig. 1: one epoch is 100 lower-level plus 100 linear-system minibatch-50 steps for the
 * stochastic variants, or one full step of each for Batch (presets of src/hypergrad/presets.ts).
 *
 * Each workload runs 10 epochs per call (t = k = 1000 minibatch steps, or 10 full steps) and the
 * rows report ms per epoch (÷ 10) and µs per step, so that the one-off work of a call (the
 * right-hand side ∇₁E over the validation set, the final draw) is spread as it is in a long run.
 * The two stages are also timed on their own (the split PyTorch's script reports): the lower
 * solver's stream from w₀ = 0, and the linear solver's stream on the system at a fixed wₜ.
 * Baseline of the stage rows: none (compare with PyTorch through bench/peers.sh).
 */
import * as E from 'fp-ts/lib/Either.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { sid } from '../src/hypergrad/sid.js'
import { sidPreset, type PresetName } from '../src/hypergrad/presets.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { seed, split } from '../src/random/rng.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import { timingRow, type BenchContext, type Row, type Timing } from './harness.js'
import { unfold } from '../src/solvers/solver.js'

const EPOCHS_PER_CALL = 10

const perEpoch = (t: Timing, name: string): Timing => ({
  ...t,
  name,
  medianMs: t.medianMs / EPOCHS_PER_CALL,
  minMs: t.minMs / EPOCHS_PER_CALL,
  maxMs: t.maxMs / EPOCHS_PER_CALL,
})

export default function sidBench(ctx: BenchContext): ReadonlyArray<Row> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const { train, validation } = data.right
  const lam = Float64Array.of(1)
  const built = logisticProblem(train, validation, lam, { regularization: 'scalar' })
  if (E.isLeft(built)) throw new Error(built.left.message)
  const problem = built.right
  const d = problem.dim
  const rows: Row[] = []

  const variant = (name: PresetName, label: string, stepsPerEpoch: number): void => {
    // 2·EPOCHS_PER_CALL preset epochs = EPOCHS_PER_CALL SID epochs of (lower + linear) steps.
    const opts = sidPreset(name, problem, lam, { epochs: 2 * EPOCHS_PER_CALL, seed: 7 })
    if (E.isLeft(opts)) throw new Error(opts.left.message)
    const o = opts.right
    const check = sid(problem, lam, o)
    if (E.isLeft(check) || check.right.status === 'diverged') throw new Error(`sid ${name} failed`)
    const full = ctx.measure(`SID ${label}: one epoch`, () => {
      const r = sid(problem, lam, o)
      return E.isRight(r) ? r.right.gradient : 0
    })
    const steps = o.t
    const [rl, rk] = split(seed(11), 2)
    const lower = ctx.measure(`SID ${label}: lower stage`, () => {
      let last: Float64Array | undefined
      for (const s of unfold(o.lower, { problem, lambda: lam }, new Float64Array(d), rl!)) {
        last = s.w
        if (s.iter >= steps) break
      }
      return last
    })
    const wT = check.right.w
    const system = linearSystemAt(problem, lam, wT)
    const linear = ctx.measure(`SID ${label}: linear-system stage`, () => {
      let last: Float64Array | undefined
      for (const s of unfold(o.linear, system, new Float64Array(d), rk!)) {
        last = s.v
        if (s.iter >= steps) break
      }
      return last
    })
    const us = (t: Timing): string => `${((1000 * t.medianMs) / (EPOCHS_PER_CALL * stepsPerEpoch)).toFixed(1)} µs per step`
    rows.push(
      timingRow(perEpoch(full, `SID ${label}: one epoch (${stepsPerEpoch} lower + ${stepsPerEpoch} linear-system steps)`), {
        notes: `ms per epoch, ${EPOCHS_PER_CALL} epochs per call (t = k = ${steps}); ${((1000 * full.medianMs) / (2 * steps)).toFixed(1)} µs per step incl. ∇₁E and the final draw`,
      }),
      timingRow(perEpoch(lower, `SID ${label}: lower stage, ${stepsPerEpoch} steps`), { notes: `${o.lower.name}; ${us(lower)}` }),
      timingRow(perEpoch(linear, `SID ${label}: linear-system stage, ${stepsPerEpoch} steps`), { notes: `${o.linear.name}; ${us(linear)}` }),
    )
  }
  variant('stochDec', 'Stoch dec (minibatch 50)', 100)
  variant('batch', 'Batch (full steps)', 1)
  return rows
}
