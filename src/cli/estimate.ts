/** `hypergrad estimate CONFIG.json`: one hypergradient, with its a posteriori bound where it applies. */
import * as E from 'fp-ts/lib/Either.js'
import { dirname } from 'node:path'
import { aPosterioriBound } from '../bounds/ehrhardtRoberts.js'
import { aPosterioriInputsAt } from '../bounds/constants.js'
import type { HypergradError } from '../errors.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { build } from './build.js'
import { decodeEstimateConfig, type EstimateConfig } from './config.js'
import { must, readJson } from './io.js'
import { runMethod } from './methods.js'

/** The JSON printed by `estimate --json` (a contract: these fields at least). */
export interface EstimateOutput {
  /** The estimate, or null when the method diverged. */
  readonly hypergradient: number[] | null
  /** E at the final lower iterate, or null when the method diverged. */
  readonly value: number | null
  readonly status: HypergradResult['status']
  /** When diverged: the stage and iteration at which it diverged, and why. */
  readonly divergedAt?: { readonly stage: string; readonly iter: number }
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
  if (r.status === 'diverged' || r.k === 0 && r.method.startsWith('itd')) return null
  if (r.w.length !== problem.dim || r.v.length !== problem.dim) return null
  const inputs = aPosterioriInputsAt(problem, lambda, r.w, r.v)
  if (E.isLeft(inputs)) return null
  const b = aPosterioriBound(inputs.right)
  return E.isRight(b) && Number.isFinite(b.right) ? b.right : null
}

export const estimateFromConfig = (cfg: EstimateConfig, baseDir: string): E.Either<HypergradError, EstimateOutput> => {
  const built = build(cfg, baseDir)
  if (E.isLeft(built)) return built
  const { problem, lambda } = built.right
  const start = performance.now()
  const r = runMethod(cfg.method, problem, lambda, cfg.seed)
  const seconds = (performance.now() - start) / 1000
  if (E.isLeft(r)) return r
  const res = r.right
  // ITD's final v is an adjoint of the unrolled iteration, not a linear-system iterate: no a posteriori bound.
  const bound = cfg.method.name === 'itd' ? null : aPosterioriAt(problem, lambda, res)
  return E.right({
    hypergradient: res.status === 'diverged' ? null : Array.from(res.gradient),
    value: res.value,
    status: res.status,
    ...(res.status === 'diverged' ? { divergedAt: res.divergedAt, reason: res.reason } : {}),
    bounds: { aPosteriori: bound },
    seconds,
    method: res.method,
    lambda: Array.from(lambda),
    t: res.t,
    k: res.k,
    counts: res.counts,
  })
}

/** Run the subcommand; returns the text to print on stdout. */
export const estimateCommand = (path: string, opts: { readonly json?: boolean }): string => {
  const cfg = must(E.flatMap(readJson(path), decodeEstimateConfig))
  const out = must(estimateFromConfig(cfg, dirname(path)))
  if (opts.json === true) return JSON.stringify(out)
  if (out.hypergradient === null || out.value === null)
    return [`method        ${out.method}`, `status        diverged at the ${out.divergedAt?.stage} stage, iteration ${out.divergedAt?.iter}: ${out.reason}`].join('\n')
  const g = Float64Array.from(out.hypergradient)
  const shown = out.hypergradient.length <= 6 ? out.hypergradient.map((x) => x.toPrecision(10)).join(', ') : `${out.hypergradient.length} entries, norm ${norm(g).toPrecision(10)}`
  return [
    `method        ${out.method}`,
    `status        ${out.status} (t = ${out.t}, k = ${out.k})`,
    `f(λ)          ${out.value.toPrecision(12)}`,
    `∇f(λ)         ${shown}`,
    `error bound   ${out.bounds.aPosteriori === null ? 'n/a' : `${out.bounds.aPosteriori.toExponential(3)} (a posteriori, Ehrhardt & Roberts)`}`,
    `time          ${out.seconds.toFixed(3)} s`,
  ].join('\n')
}
