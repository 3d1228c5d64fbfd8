/**
 * Time to relative error 1e-6 on MNIST (odd/even, 5000 × 784, scalar λ = 1) for the
 * deterministic hypergradient methods (the project's issue 3): AID-FP (gradient descent +
 * fixed-point linear solver, t = k), AID-CG (gradient descent + conjugate gradient), AID-CG
 * with a heavy-ball lower solver, ITD in reverse mode, and `exact` (Newton + Cholesky).
 *
 * Error = |∇̂f − ∇f| / |∇f| against ∇f from `exact` (itself checked against the peers' ground
 * truth −72.29292724230). For each iterative method the budget t (lower steps; k = t for
 * AID-FP, CG to relative residual 1e-10) doubles from a start until the error is ≤ 1e-6 or the
 * cap is reached; the row times that last configuration (median of 5 runs) and reports its Φ
 * evaluations (full-map units: Φ, ∂₁Φ and ∂₂Φ products each count one) and the error it
 * reached. At λ = 1 the lower problem is badly conditioned (κ = L/τ ≈ 4.9e4, q = 0.99996 for
 * gradient descent): plain fixed-point methods need ≈ 3·10⁵ steps for 1e-6, far past any
 * sensible cap, and the rows say so with the error they reach.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { aid } from '../src/hypergrad/aid.js'
import { exact } from '../src/hypergrad/exact.js'
import { itd } from '../src/hypergrad/itd.js'
import type { HypergradResult } from '../src/hypergrad/types.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { conjugateGradient } from '../src/solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../src/solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../src/solvers/lower/fixedPoint.js'
import { heavyBall } from '../src/solvers/lower/heavyBall.js'
import { heavyBallParams } from '../src/solvers/params.js'
import { TRUTH_LAMBDA_1 } from './exact.bench.js'
import { timingRow, type BenchContext, type Row } from './harness.js'

const TARGET = 1e-6

export default function deterministic(ctx: BenchContext): ReadonlyArray<Row> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const { train, validation } = data.right
  const lam = Float64Array.of(1)
  const built = logisticProblem(train, validation, lam, { regularization: 'scalar' })
  if (E.isLeft(built)) throw new Error(built.left.message)
  const problem = built.right
  const truth = exact(problem, lam)
  if (E.isLeft(truth)) throw new Error(truth.left.message)
  if (truth.right.status === 'diverged') throw new Error(`exact diverged: ${truth.right.reason}`)
  const g = truth.right.gradient[0]!
  if (!(Math.abs(g - TRUTH_LAMBDA_1) < 1e-9 * Math.abs(TRUTH_LAMBDA_1))) throw new Error(`exact: ∇f(1) = ${g} disagrees with the ground truth`)
  const err = (r: HypergradResult): number => (r.status === 'diverged' ? Infinity : Math.abs(r.gradient[0]! - g) / Math.abs(g))
  const evals = (r: HypergradResult): number => r.counts.phi + r.counts.jacW + r.counts.jacLambda

  const { tau, L } = problem.lower.curvature(lam)
  const hbE = heavyBallParams(tau, L, problem.alpha)
  if (E.isLeft(hbE)) throw new Error(hbE.left.message)
  const hb = hbE.right
  const scale = ctx.quick ? 4 : 1
  const methods: ReadonlyArray<{
    readonly name: string
    readonly budgets: ReadonlyArray<number>
    readonly run: (t: number) => E.Either<unknown, HypergradResult>
  }> = [
    { name: 'AID-FP (GD + fixed point, k = t)', budgets: [250, 500, 1000], run: (t) => aid(problem, lam, { lower: fixedPointIteration(), linear: fixedPointLinear(), t, k: t }) },
    { name: 'AID-CG (GD + CG to 1e-10)', budgets: [500, 1000, 2000], run: (t) => aid(problem, lam, { lower: fixedPointIteration(), linear: conjugateGradient({ tol: 1e-10 }), t, k: 10_000 }) },
    {
      name: 'AID-CG (heavy ball + CG to 1e-10)',
      budgets: [250, 500, 1000, 2000, 4000],
      run: (t) => aid(problem, lam, { lower: heavyBall({ beta: hb.beta, eta: hb.eta }), linear: conjugateGradient({ tol: 1e-10 }), t, k: 10_000 }),
    },
    { name: 'ITD reverse (GD)', budgets: [250, 500, 1000], run: (t) => itd(problem, lam, { t, mode: 'reverse' }) },
  ]

  const rows: Row[] = []
  const timed = { repeats: 5, warmup: 0, minMs: 1 }
  for (const meth of methods) {
    let chosen = meth.budgets[0]!
    let last: HypergradResult | undefined
    for (const b of meth.budgets) {
      const t = Math.max(1, Math.round(b / scale))
      const r = meth.run(t)
      if (E.isLeft(r)) throw new Error(`${meth.name} failed at t = ${t}`)
      chosen = t
      last = r.right
      if (err(r.right) <= TARGET) break
    }
    const reached = err(last!) <= TARGET
    const tm = ctx.measure(`time to 1e-6, λ = 1: ${meth.name}`, () => {
      const r = meth.run(chosen)
      return E.isRight(r) ? r.right.gradient : 0
    }, timed)
    rows.push(
      timingRow(tm, {
        notes: `${reached ? 'reached' : 'NOT reached (cap)'}: t = ${chosen}${last!.k > 0 ? `, k = ${last!.k}` : ''}, ${Math.round(evals(last!))} Φ-evaluations, rel. error ${err(last!).toExponential(2)}`,
      }),
    )
  }
  const ex = ctx.measure('time to 1e-6, λ = 1: exact (Newton + Cholesky)', () => {
    const r = exact(problem, lam)
    return E.isRight(r) ? r.right.gradient : 0
  }, timed)
  rows.push(
    timingRow(ex, {
      notes: `reached: ${truth.right.t} Newton steps, ${Math.round(evals(truth.right))} Φ-evaluation equivalents (each dense Jacobian counts d = ${problem.dim}), rel. error vs ground truth ${(Math.abs(g - TRUTH_LAMBDA_1) / Math.abs(TRUTH_LAMBDA_1)).toExponential(1)}`,
    }),
  )
  return rows
}
