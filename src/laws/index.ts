/**
 * hypergrad/laws: the laws every problem, solver and stream of the library obeys, as fast-check
 * property factories. The library's own test suite runs exactly these; run them on your own
 * problem or solver with one call (see docs/laws.md):
 *
 *   import { checkProblem, formatFailures } from 'hypergrad/laws'
 *   const r = checkProblem(myProblem, { seed: 42, lambda0 })
 *   if (!r.ok) throw new Error(formatFailures(r))
 */
export { checkProblem, checkProblemOrThrow, checkStochasticProblem, type ProblemLawOptions } from './problem.js'
export {
  checkLinearSolver,
  checkLowerSolver,
  denseLinearSolution,
  hasClosedForm,
  type LinearSolverLawOptions,
  type LowerSolverLawOptions,
  type SolverLawOptions,
} from './solver.js'
export {
  checkScheduleLaws,
  checkStreamLaws,
  determinismLaw,
  dropDropLaw,
  everyIndexLaw,
  everyOneLaw,
  mapFusionLaw,
  replayLaw,
  scanInitLaw,
  takeTakeLaw,
  type StreamLawOptions,
} from './stream.js'
export {
  assertReport,
  formatFailures,
  mergeReports,
  LawViolation,
  type LawReport,
  type LawResult,
} from './report.js'
export { bitEqual, firstDifference, snapshot, changedSince, type Snapshot } from './equal.js'
export { directional, fdMismatch, perturbation, vecArb, type FdEstimate, type Tolerance } from './numeric.js'
