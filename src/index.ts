/**
 * hypergrad: hypergradients for bilevel optimization.
 *
 * The public surface, by area (`hg.solvers.linear.conjugateGradient`, `hg.hypergrad.sid`, …),
 * plus the names most programs need at the top level.
 */
export * as linalg from './linalg/index.js'
export * as random from './random/index.js'
export * as ad from './ad/index.js'
export * as stream from './stream/index.js'
export * as schedule from './schedule/index.js'
export * as problem from './problem/index.js'
export * as problems from './problems/index.js'
export * as data from './data/index.js'
export * as solvers from './solvers/index.js'
export * as hypergrad from './hypergrad/index.js'
export * as bounds from './bounds/index.js'
export * as outer from './outer/index.js'
export * as report from './report/index.js'

export type { Vec, RVec, Matrix, LinOp } from './linalg/types.js'
export type { BilevelProblem, StochasticBilevelProblem, Batch, ClosedForm } from './problem/bilevel.js'
export type { LowerObjective, UpperObjective } from './problem/erm.js'
export type { LowerSolver, LinearSolver, LinearSystem, LowerState, LinearState, Status, Counts } from './solvers/types.js'
export type { HypergradResult, HypergradEstimate, HypergradDiverged } from './hypergrad/types.js'
export { asEstimate, isEstimate } from './hypergrad/types.js'
export type { HypergradError } from './errors.js'
export { hgError, orThrow, HypergradException } from './errors.js'
export { ermProblem, optimalStep } from './problem/erm.js'
export { adErmProblem, adFixedPointProblem } from './problem/index.js'
export { aid } from './hypergrad/aid.js'
export { itd } from './hypergrad/itd.js'
export { exact } from './hypergrad/exact.js'
export { sid } from './hypergrad/sid.js'
export { sidPreset, sidWithPreset } from './hypergrad/presets.js'
export { tune } from './outer/tune.js'
