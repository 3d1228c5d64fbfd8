/**
 * How a law runs and how its outcome is reported. Every law is a fast-check property run with
 * `fc.check` (never `fc.assert`), so that a checker can run all its laws and collect which ones
 * failed, each with its shrunk counterexample and the `{ seed, path }` that replays it.
 */
import fc from 'fast-check'

/** The outcome of one law. */
export interface LawResult {
  /** The law's name, e.g. "fd.jvpW" or "stream.takeTake". */
  readonly law: string
  readonly ok: boolean
  /** Why it failed (or why it was skipped). */
  readonly message?: string
  /** The shrunk counterexample (the property's arguments), when it failed. */
  readonly counterexample?: unknown
  /** The fast-check seed it ran with. */
  readonly seed: number
  /** The fast-check path of the shrunk counterexample: pass `{ seed, path }` back to replay it alone. */
  readonly path?: string
  /** Runs performed. */
  readonly numRuns?: number
  /** True when the law did not apply (then ok is true and message says why). */
  readonly skipped?: boolean
}

/** The outcome of a checker: ok when every law held. */
export interface LawReport {
  readonly ok: boolean
  readonly results: ReadonlyArray<LawResult>
}

/** The error a law's predicate throws when the law does not hold; its message is the report's. */
export class LawViolation extends Error {
  override readonly name = 'LawViolation'
}

/** Throw a LawViolation (use inside a law's predicate). */
export const violation = (message: string): never => {
  throw new LawViolation(message)
}

/** How a checker runs its laws. */
export interface RunParams {
  readonly seed: number
  readonly numRuns: number
  /** Replay exactly these failing paths, by law name (from an earlier report). */
  readonly paths?: Readonly<Record<string, string>>
  /** Laws to leave out, by name. */
  readonly skip?: ReadonlyArray<string>
}

/** The run count fast-check would use when none is given (the global setting, else 100). */
export const defaultNumRuns = (): number => fc.readConfigureGlobal().numRuns ?? 100

const messageOf = (e: unknown): string => (e instanceof Error ? `${e.name === 'LawViolation' ? '' : `${e.name}: `}${e.message}` : String(e))

/** Run one property with the checker's seed and collect its outcome. */
export const runProperty = <Ts>(law: string, property: fc.IProperty<Ts>, p: RunParams, numRuns = p.numRuns): LawResult => {
  if (p.skip?.includes(law)) return skipped(law, p.seed, 'skipped on request')
  const path = p.paths?.[law]
  const details = fc.check(property, { seed: p.seed, numRuns, ...(path !== undefined ? { path } : {}) })
  if (!details.failed) return { law, ok: true, seed: p.seed, numRuns: details.numRuns }
  const message =
    details.errorInstance !== null && details.errorInstance !== undefined
      ? messageOf(details.errorInstance)
      : details.counterexample === null
        ? `gave up: ${details.numSkips} runs skipped by preconditions (inputs outside the domain?)`
        : 'the property returned false'
  return {
    law,
    ok: false,
    message,
    counterexample: details.counterexample ?? undefined,
    seed: details.seed,
    ...(details.counterexamplePath !== null ? { path: details.counterexamplePath } : {}),
    numRuns: details.numRuns,
  }
}

/** A law that does not apply here. */
export const skipped = (law: string, seed: number, why: string): LawResult => ({ law, ok: true, skipped: true, message: why, seed })

/** A law checked once, outside fast-check (a precondition such as "λ₀ is in the domain"). */
export const once = (law: string, seed: number, check: () => void): LawResult => {
  try {
    check()
    return { law, ok: true, seed, numRuns: 1 }
  } catch (e) {
    return { law, ok: false, message: messageOf(e), seed }
  }
}

/** Collect results into a report. */
export const report = (results: ReadonlyArray<LawResult>): LawReport => ({ ok: results.every((r) => r.ok), results })

/** Merge reports (e.g. the deterministic and the stochastic laws of one problem). */
export const mergeReports = (...rs: ReadonlyArray<LawReport>): LawReport => report(rs.flatMap((r) => r.results))

const show = (x: unknown): string =>
  fc.stringify(x).replace(/Float64Array\.from\(\[([^\]]*)\]\)/g, (_m, body: string) => `[${body}]`)

/** A readable account of the failed laws (empty string when all held). */
export const formatFailures = (r: LawReport, title = 'laws'): string => {
  const failed = r.results.filter((x) => !x.ok)
  if (failed.length === 0) return ''
  const lines = failed.map((f) => {
    const where = `seed ${f.seed}${f.path !== undefined ? `, path "${f.path}"` : ''}`
    const ce = f.counterexample !== undefined ? `\n    counterexample: ${show(f.counterexample).slice(0, 2000)}` : ''
    return `  ✗ ${f.law}: ${f.message ?? 'failed'} (${where})${ce}`
  })
  return `${title}: ${failed.length} of ${r.results.length} laws failed\n${lines.join('\n')}`
}

/** Throw an Error listing the failed laws, when any failed (for use inside a test runner). */
export const assertReport = (r: LawReport, title?: string): void => {
  if (!r.ok) throw new Error(formatFailures(r, title))
}
