/** `hypergrad reproduce EXPERIMENT`: run one of the papers' experiments from the registry and write its files. */
import * as E from 'fp-ts/lib/Either.js'
import { experimentNames, getExperiment, reproduce, write, type Overrides } from '../experiments/registry.js'
import { must, UserError, type Progress } from './io.js'

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

export const reproduceCommand = async (experiment: string, opts: ReproduceOptions, progress: Progress): Promise<string> => {
  if (experiment === 'list') return listExperiments()
  const x = must(getExperiment(experiment))
  const overrides: Record<string, unknown> = {}
  if (opts.runs !== undefined) overrides['runs'] = opts.runs
  if (opts.epochs !== undefined) overrides['epochs'] = opts.epochs
  if (opts.lambdas !== undefined) overrides['lambdas'] = opts.lambdas
  for (const kv of opts.set ?? []) {
    const i = kv.indexOf('=')
    if (i <= 0) throw new UserError(`--set expects field=value, got "${kv}"`)
    overrides[kv.slice(0, i).trim()] = kv.slice(i + 1)
  }
  // Decode first, so that a mistake is reported before any work starts.
  must(E.map(() => undefined)(x.configure(overrides as Overrides)))
  let started = false
  const result = await reproduce(experiment, overrides, {
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
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
  const written = must(await write(out, opts.out ?? `out/${experiment}`))
  const t = out.timing
  return [
    out.summary.trimEnd(),
    '',
    `wrote ${written.files.join(', ')} to ${written.dir}`,
    `time ${t.wallSeconds.toFixed(1)} s${t.cpuSeconds !== undefined ? `, cpu ${t.cpuSeconds.toFixed(1)} s` : ''}${t.maxRssMiB !== undefined ? `, peak memory ${t.maxRssMiB.toFixed(0)} MiB` : ''}`,
  ].join('\n')
}
