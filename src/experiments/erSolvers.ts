/**
 * The solvers of Ehrhardt & Roberts §4, shared by er-budget-split (§4.1) and er-hypercleaning
 * (§4.2): gradient descent, heavy ball or FISTA (without restarts) on the lower level, and
 * gradient descent, heavy ball or conjugate gradient on the linear system.
 */
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { heavyBallLinear } from '../solvers/linear/heavyBall.js'
import { fista } from '../solvers/lower/fista.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'

/** The lower and linear solvers. */
export type ErLower = 'gd' | 'heavyBall' | 'fista'
export type ErLinear = 'gd' | 'heavyBall' | 'cg'
export const ER_LOWER: ReadonlyArray<ErLower> = ['gd', 'heavyBall', 'fista']
export const ER_LINEAR: ReadonlyArray<ErLinear> = ['gd', 'heavyBall', 'cg']
export const ER_LOWER_LABEL: Readonly<Record<ErLower, string>> = { gd: 'GD', heavyBall: 'heavy ball', fista: 'FISTA' }
export const ER_LINEAR_LABEL: Readonly<Record<ErLinear, string>> = { gd: 'GD', heavyBall: 'heavy ball', cg: 'CG' }

/** Each solver, heavy ball (lower and linear) with the relaxation (β, η) given; CG runs its k steps (tol 0). */
export const erSolvers = ({ beta, eta }: { readonly beta: number; readonly eta: number }): { readonly lower: Readonly<Record<ErLower, LowerSolver>>; readonly linear: Readonly<Record<ErLinear, LinearSolver>> } => ({
  lower: { gd: fixedPointIteration(), heavyBall: heavyBall({ beta, eta }), fista: fista({ restart: false }) },
  linear: { gd: fixedPointLinear(), heavyBall: heavyBallLinear({ beta, eta }), cg: conjugateGradient({ tol: 0 }) },
})
