/**
 * `hypergrad reproduce EXPERIMENT`: run one of the papers' experiments from the registry and
 * write its files. Everything is checked before the run: the fields (unknown ones, values,
 * contradictions between --runs/--epochs/--lambdas and --set), the memory and time the run
 * needs against the machine (fewer workers when all would not fit; never more than the
 * cores), and the output folder.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Limits } from '../config/cost.js'
import { showValue } from '../config/show.js'
import { experimentNames, getExperiment, reproduce, write, type ExperimentOutput, type Overrides } from '../experiments/registry.js'
import type { Outcome } from './estimate.js'
import { EXIT, must, note, prepareOutDir, UserError, type Progress } from './io.js'

export interface ReproduceOptions {
  readonly runs?: number
  /** Epoch budgets as typed ("2,10,60", or one number E for the default budgets up to E). */
  readonly epochs?: string
  readonly lambdas?: string
  /** Any other field of the experiment, as "field=value" (repeatable). */
  readonly set?: ReadonlyArray<string>
  readonly out?: string
  readonly workers?: number
}

/** The experiments and their fields, for `hypergrad reproduce list`. */
export const listExperiments = (): string =>
  experimentNames
    .map((n) => {
      const x = must(getExperiment(n))
      return [`${n.padEnd(22)} ${x.title} (${x.reference})`, ...x.fields.map((f) => `    ${f.name.padEnd(12)} ${f.doc}`)].join('\n')
    })
    .join('\n\n')

/**
 * The overrides of the command line: --runs, --epochs and --lambdas, then each --set
 * field=value. A field given twice with different values is an error (which one was meant?).
 */
export const overridesOf = (opts: ReproduceOptions): Overrides => {
  const overrides: Record<string, unknown> = {}
  const from: Record<string, string> = {}
  const put = (field: string, value: unknown, where: string) => {
    if (Object.prototype.hasOwnProperty.call(overrides, field) && String(overrides[field]).trim() !== String(value).trim())
      throw new UserError(`${where} contradicts ${from[field]}: ${field} is given twice with different values`)
    overrides[field] = value
    from[field] = where
  }
  if (opts.runs !== undefined) put('runs', opts.runs, `--runs ${opts.runs}`)
  if (opts.epochs !== undefined) put('epochs', opts.epochs, `--epochs ${showValue(opts.epochs, 40)}`)
  if (opts.lambdas !== undefined) put('lambdas', opts.lambdas, `--lambdas ${showValue(opts.lambdas, 40)}`)
  for (const kv of opts.set ?? []) {
    const i = kv.indexOf('=')
    if (i <= 0) throw new UserError(`--set expects field=value, got ${showValue(kv, 40)}`)
    const field = kv.slice(0, i).trim()
    put(field, kv.slice(i + 1), `--set ${showValue(kv, 40)}`)
  }
  return overrides
}

/** Write the results; if that fails after the run, the results go to stdout instead (nothing is lost). */
const writeOrPrint = async (out: ExperimentOutput<unknown>, dir: string): Promise<{ readonly text: string; readonly failed?: string }> => {
  const written = await write(out, dir)
  if (E.isRight(written)) return { text: `wrote ${written.right.files.join(', ')} to ${written.right.dir}` }
  const json = JSON.stringify(
    { experiment: out.experiment, config: out.config, summary: out.summary, timing: out.timing, details: out.details },
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v),
  )
  return { text: json, failed: `${written.left.message}; the results are printed on standard output instead` }
}

export const reproduceCommand = async (
  experiment: string,
  opts: ReproduceOptions,
  limits: Limits,
  progressFor: (interruptible: boolean) => Progress,
): Promise<Outcome> => {
  if (experiment === 'list') return { stdout: listExperiments(), code: EXIT.ok }
  const x = must(getExperiment(experiment))
  const overrides = overridesOf(opts)
  // Decode, then plan against the machine, then check the output folder: every mistake is
  // reported before any work starts.
  const config = must(x.configure(overrides))
  const plan = must(x.plan(config, { ...(opts.workers !== undefined ? { workers: opts.workers } : {}), maxSeconds: limits.maxSeconds }, limits.resources))
  const dir = must(prepareOutDir(opts.out ?? `out/${experiment}`, opts.out === undefined ? 'output folder' : '--out'))
  for (const n of plan.notes) note(n)
  const progress = progressFor(plan.workers > 1)
  let started = false
  const result = await reproduce(experiment, overrides, {
    workers: plan.workers,
    maxSeconds: limits.maxSeconds,
    onProgress: (done, total) => {
      if (!started) {
        progress.start(total, experiment)
        started = true
      }
      progress.update(done)
    },
  })
  if (started) progress.stop()
  const out = must(result)
  const w = await writeOrPrint(out, dir)
  const t = out.timing
  const stdout = [
    out.summary.trimEnd(),
    '',
    w.text,
    `time ${t.wallSeconds.toFixed(1)} s${t.cpuSeconds !== undefined ? `, cpu ${t.cpuSeconds.toFixed(1)} s` : ''}${t.maxRssMiB !== undefined ? `, peak memory ${t.maxRssMiB.toFixed(0)} MiB` : ''}`,
  ].join('\n')
  return { stdout, code: w.failed === undefined ? EXIT.ok : EXIT.input, ...(w.failed !== undefined ? { message: w.failed } : {}) }
}
