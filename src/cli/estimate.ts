/** `hypergrad estimate CONFIG.json`: one hypergradient, with its a posteriori bound where it applies. */
import * as E from 'fp-ts/lib/Either.js'
import { dirname } from 'node:path'
import { aPosterioriBound } from '../bounds/ehrhardtRoberts.js'
import { aPosterioriInputsAt } from '../bounds/constants.js'
import { checkCharges, type Limits } from '../config/cost.js'
import { formatSeconds } from '../config/resources.js'
import type { HypergradError } from '../errors.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { buildFrom, loadData, sizesOf } from './build.js'
import { decodeEstimateConfig, type EstimateConfig } from './config.js'
import { EXIT, must, note, readJson } from './io.js'
import { methodCharges } from './limits.js'
import { checkMethod, runMethod } from './methods.js'

/** Where a diverged method stopped. */
export interface DivergedAt {
  readonly stage: string
  readonly iter: number
}

/**
 * The JSON printed by `estimate --json` (a contract: these fields at least). A diverged run has
 * status "diverged", `hypergradient` and `value` null, and `divergedAt` (the stage and the step);
 * no field is ever NaN or infinite.
 */
export interface EstimateOutput {
  readonly hypergradient: number[] | null
  readonly value: number | null
  readonly status: HypergradResult['status']
  readonly divergedAt?: DivergedAt
  readonly reason?: string
  readonly bounds: { readonly aPosteriori: number | null }
  readonly seconds: number
  readonly method: string
  readonly lambda: number[]
  readonly t: number
  readonly k: number
  readonly counts: HypergradResult['counts']
}

/** The a posteriori bound of Ehrhardt & Roberts at the method's final (ŵ, v), or null where it does not apply. */
export const aPosterioriAt = (problem: ErmProblem, lambda: RVec, r: HypergradResult): number | null => {
  if (r.status === 'diverged' || (r.k === 0 && r.method.startsWith('itd'))) return null
  if (r.w.length !== problem.dim || r.v.length !== problem.dim) return null
  const inputs = aPosterioriInputsAt(problem, lambda, r.w, r.v)
  if (E.isLeft(inputs)) return null
  const b = aPosterioriBound(inputs.right)
  return E.isRight(b) && Number.isFinite(b.right) ? b.right : null
}

const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)

/**
 * A method's result as the command reports it: a diverged result (or one whose estimate is not
 * finite) has a null hypergradient and value, and says where it stopped.
 */
export const reportResult = (res: HypergradResult): Pick<EstimateOutput, 'hypergradient' | 'value' | 'status' | 'divergedAt' | 'reason'> => {
  const reason = (res as { readonly reason?: unknown }).reason
  if (res.status === 'diverged') {
    const at = res.divergedAt
    return {
      hypergradient: null,
      value: null,
      status: 'diverged',
      ...(at !== undefined ? { divergedAt: { stage: at.stage, iter: at.iter } } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
    }
  }
  const g = Array.from(res.gradient)
  if (!g.every(Number.isFinite)) return { hypergradient: null, value: null, status: 'diverged', reason: 'the estimate is not finite' }
  return { hypergradient: g, value: finiteOrNull(res.value), status: res.status }
}

/** The estimate of a config whose data are in `baseDir`, after the limits are checked (a 'config' Left otherwise). */
export const estimateFromConfig = (cfg: EstimateConfig, baseDir: string, limits?: Limits, onCost?: (seconds: number) => void): E.Either<HypergradError, EstimateOutput> => {
  const splits = loadData(cfg.data, cfg.problem, baseDir)
  if (E.isLeft(splits)) return splits
  const cost = limits === undefined ? E.right(undefined) : checkCharges(methodCharges(cfg.method, sizesOf(cfg, splits.right)), limits)
  if (E.isLeft(cost)) return cost
  const built = buildFrom(cfg, splits.right)
  if (E.isLeft(built)) return built
  const { problem, lambda } = built.right
  const checked = checkMethod(cfg.method, problem, lambda, cfg.seed)
  if (E.isLeft(checked)) return checked
  if (cost.right !== undefined) onCost?.(cost.right.seconds)
  const start = performance.now()
  const r = runMethod(cfg.method, problem, lambda, cfg.seed)
  const seconds = (performance.now() - start) / 1000
  if (E.isLeft(r)) return r
  const res = r.right
  // ITD's final v is an adjoint of the unrolled iteration, not a linear-system iterate: no a posteriori bound.
  const bound = cfg.method.name === 'itd' ? null : aPosterioriAt(problem, lambda, res)
  return E.right({
    ...reportResult(res),
    bounds: { aPosteriori: finiteOrNull(bound) },
    seconds,
    method: res.method,
    lambda: Array.from(lambda),
    t: res.t,
    k: res.k,
    counts: res.counts,
  })
}

/** What a command prints and its exit status. */
export interface Outcome {
  readonly stdout: string
  readonly code: number
  /** One line for stderr (a diverged run, a file that could not be written). */
  readonly message?: string
}

/** Runs estimated at least this long get a note with the estimate first. */
export const NOTE_SECONDS = 10

/** A number for the text output: never "NaN" or "Infinity". */
export const shownNumber = (x: number | null | undefined, f: (x: number) => string): string => (typeof x === 'number' && Number.isFinite(x) ? f(x) : 'n/a')

/** "diverged at step 385 of the lower stage: reason". */
export const divergedWhere = (o: Pick<EstimateOutput, 'divergedAt' | 'reason'>): string =>
  `${o.divergedAt === undefined ? 'diverged' : `diverged at step ${o.divergedAt.iter} of the ${o.divergedAt.stage} stage`}${o.reason === undefined ? '' : ` (${o.reason})`}`

/** Run the subcommand: what to print and the exit status (3 when the method diverged). */
export const estimateCommand = (path: string, opts: { readonly json?: boolean; readonly quiet?: boolean }, limits: Limits): Outcome => {
  const cfg = must(E.flatMap(readJson(path), decodeEstimateConfig))
  const out = must(
    estimateFromConfig(cfg, dirname(path), limits, (s) => {
      if (s >= NOTE_SECONDS && opts.quiet !== true) note(`this run is estimated to take at least ${formatSeconds(s)}`)
    }),
  )
  const diverged = out.status === 'diverged'
  const message = diverged ? `the method ${divergedWhere(out)}; no hypergradient` : undefined
  const code = diverged ? EXIT.diverged : EXIT.ok
  if (opts.json === true) return { stdout: JSON.stringify(out), code, ...(message !== undefined ? { message } : {}) }
  const g = out.hypergradient
  const shown =
    g === null
      ? 'none (the method diverged)'
      : g.length <= 6
        ? g.map((x) => x.toPrecision(10)).join(', ')
        : `${g.length} entries, norm ${shownNumber(norm(Float64Array.from(g)), (x) => x.toPrecision(10))}`
  const stdout = [
    `method        ${out.method}`,
    `status        ${diverged ? divergedWhere(out) : out.status} (t = ${out.t}, k = ${out.k})`,
    `f(λ)          ${shownNumber(out.value, (x) => x.toPrecision(12))}`,
    `∇f(λ)         ${shown}`,
    `error bound   ${out.bounds.aPosteriori === null ? 'n/a' : `${out.bounds.aPosteriori.toExponential(3)} (a posteriori, Ehrhardt & Roberts)`}`,
    `time          ${out.seconds.toFixed(3)} s`,
  ].join('\n')
  return { stdout, code, ...(message !== undefined ? { message } : {}) }
}
