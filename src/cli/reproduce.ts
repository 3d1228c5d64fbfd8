/**
 * `hypergrad reproduce EXPERIMENT`: run one of the papers' experiments from the registry and
 * write its files; with `--shard i/n`, run only slice i of n of its tasks and write their
 * results as a shard file, for `hypergrad merge` (merge.ts) to put together with the other
 * slices. Everything is checked before the run: the fields (unknown ones, values,
 * contradictions between --runs/--epochs/--lambdas and --set), the slice, the memory and time
 * the run (or the slice) needs against the machine (fewer workers when all would not fit; never
 * more than the cores), and the output folder.
 */
import * as E from 'fp-ts/lib/Either.js'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Limits } from '../config/cost.js'
import { showValue } from '../config/show.js'
import { hgError } from '../errors.js'
import { experimentNames, getExperiment, reproduce, reproduceShard, write, type ExperimentOutput, type Overrides } from '../experiments/registry.js'
import { encodeShard, shardFileName, shardRange, type Shard } from '../experiments/shard.js'
import type { Outcome } from './estimate.js'
import { describeFsError, EXIT, must, note, prepareOutDir, UserError, type Progress } from './io.js'

export interface ReproduceOptions {
  readonly runs?: number
  /** Epoch budgets as typed ("2,10,60", or one number E for the default budgets up to E). */
  readonly epochs?: string
  readonly lambdas?: string
  /** Any other field of the experiment, as "field=value" (repeatable). */
  readonly set?: ReadonlyArray<string>
  readonly out?: string
  readonly workers?: number
  /** Run slice i of n of the experiment's tasks and write shard-i-of-n.json (default folder: out/<experiment>/shards). */
  readonly shard?: Shard
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
export const writeOrPrint = async (out: ExperimentOutput<unknown>, dir: string): Promise<{ readonly text: string; readonly failed?: string }> => {
  const written = await write(out, dir)
  if (E.isRight(written)) return { text: `wrote ${written.right.files.join(', ')} to ${written.right.dir}` }
  const json = JSON.stringify(
    { experiment: out.experiment, config: out.config, summary: out.summary, timing: out.timing, details: out.details },
    (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v),
  )
  return { text: json, failed: `${written.left.message}; the results are printed on standard output instead` }
}

/** The progress callback of a run: the bar starts with the first report (when the total is known). */
const progressOf = (progress: Progress, label: string) => {
  let started = false
  return {
    onProgress: (done: number, total: number) => {
      if (!started) {
        progress.start(total, label)
        started = true
      }
      progress.update(done)
    },
    stop: () => {
      if (started) progress.stop()
    },
  }
}

/** The time line of a run's output. */
export const timeLine = (t: ExperimentOutput<unknown>['timing'] | { readonly wallSeconds: number; readonly cpuSeconds?: number; readonly maxRssMiB?: number }): string =>
  `time ${t.wallSeconds.toFixed(1)} s${t.cpuSeconds !== undefined ? `, cpu ${t.cpuSeconds.toFixed(1)} s` : ''}${t.maxRssMiB !== undefined ? `, peak memory ${t.maxRssMiB.toFixed(0)} MiB` : ''}`

export const reproduceCommand = async (
  experiment: string,
  opts: ReproduceOptions,
  limits: Limits,
  progressFor: (interruptible: boolean) => Progress,
): Promise<Outcome> => {
  if (experiment === 'list') {
    if (opts.shard !== undefined) throw new UserError('--shard slices the tasks of an experiment; give its name, not "list"')
    return { stdout: listExperiments(), code: EXIT.ok }
  }
  const x = must(getExperiment(experiment))
  const overrides = overridesOf(opts)
  // Decode, then plan against the machine, then check the output folder: every mistake is
  // reported before any work starts.
  const config = must(x.configure(overrides))
  const shard = opts.shard
  const plan = must(
    x.plan(config, { ...(opts.workers !== undefined ? { workers: opts.workers } : {}), maxSeconds: limits.maxSeconds, ...(shard !== undefined ? { shard } : {}) }, limits.resources),
  )
  const defaultDir = shard === undefined ? `out/${experiment}` : `out/${experiment}/shards`
  const dir = must(prepareOutDir(opts.out ?? defaultDir, opts.out === undefined ? 'output folder' : '--out'))
  for (const n of plan.notes) note(n)
  const bar = progressOf(progressFor(plan.workers > 1), shard === undefined ? experiment : `${experiment} ${shard.index}/${shard.count}`)
  const runOpts = { workers: plan.workers, maxSeconds: limits.maxSeconds, onProgress: bar.onProgress }
  if (shard !== undefined) {
    const result = await reproduceShard(experiment, overrides, shard, runOpts)
    bar.stop()
    const file = must(result)
    const path = join(dir, shardFileName(shard))
    // Written to a temporary name, then renamed: a job killed while writing leaves no shard file behind.
    const partial = join(dir, `.${shardFileName(shard)}.${process.pid}.tmp`)
    try {
      writeFileSync(partial, encodeShard(file))
      renameSync(partial, path)
    } catch (e) {
      must(E.left(hgError('config', `reproduce ${experiment}: cannot write ${path} (${describeFsError(e)})`)))
    }
    const { from, to } = shardRange(file.tasks.total, shard)
    const stdout = [
      `slice ${shard.index} of ${shard.count} of ${experiment}: tasks ${from + 1}–${to} of ${file.tasks.total}${from === to ? ' (none: the run has fewer tasks than slices)' : ''}`,
      `wrote ${path}; when every slice is done: hypergrad merge ${dir}`,
      timeLine(file.timing),
    ].join('\n')
    return { stdout, code: EXIT.ok }
  }
  const result = await reproduce(experiment, overrides, runOpts)
  bar.stop()
  const out = must(result)
  const w = await writeOrPrint(out, dir)
  const stdout = [out.summary.trimEnd(), '', w.text, timeLine(out.timing)].join('\n')
  return { stdout, code: w.failed === undefined ? EXIT.ok : EXIT.input, ...(w.failed !== undefined ? { message: w.failed } : {}) }
}
