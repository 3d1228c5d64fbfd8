/**
 * The `hypergrad` command: estimate one hypergradient, reproduce the papers' experiments,
 * tune hyperparameters. Exit status (docs/errors.md): 0 success; 2 bad input (a config, an
 * argument, a data file, an output path, a count beyond the limits), with one line on stderr;
 * 3 the method diverged; 1 an internal fault, with a short message (and the stack trace with
 * --debug or HYPERGRAD_DEBUG=1).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import { DEFAULT_MAX_HOURS, type Limits } from '../config/cost.js'
import { machineResources } from '../config/resources.js'
import { libraryVersion } from '../config/version.js'
import { HypergradException } from '../errors.js'
import { parseShard, type Shard } from '../experiments/shard.js'
import type { Outcome } from './estimate.js'
import { EXIT, exitCodeOf, oneLine, oneLineText, progressBar, UserError } from './io.js'


const positiveInt = (what: string) => (s: string): number => {
  const n = Number(s)
  if (!(s.trim() !== '' && Number.isSafeInteger(n) && n >= 1)) throw new InvalidArgumentError(`${what} must be an integer ≥ 1, got "${oneLineText(s).slice(0, 40)}"`)
  return n
}

const positiveNumber = (what: string) => (s: string): number => {
  const n = Number(s)
  if (!(s.trim() !== '' && Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`${what} must be a positive number, got "${oneLineText(s).slice(0, 40)}"`)
  return n
}

/** --shard i/n, checked by the shards' own parser (shard.ts). */
const shardArg = (s: string): Shard => {
  const r = parseShard(s)
  if (E.isLeft(r)) throw new InvalidArgumentError(r.left.message.replace(/^--shard: /, ''))
  return r.right
}

const maxHoursOption = () =>
  new Option('--max-hours <h>', `refuse runs estimated to take longer (default ${DEFAULT_MAX_HOURS})`).argParser(positiveNumber('--max-hours'))

const limitsOf = (o: { readonly maxHours?: number }): Limits => ({ resources: machineResources(), maxSeconds: 3600 * (o.maxHours ?? DEFAULT_MAX_HOURS) })

/** Print what a command produced; the exit status. */
const emit = (o: Outcome): number => {
  if (o.stdout !== '') process.stdout.write(o.stdout + '\n')
  if (o.message !== undefined) process.stderr.write(`hypergrad: ${oneLineText(o.message)}\n`)
  return o.code
}

/** The command's parser; each subcommand loads its modules when it runs (a fast start for the others). */
export const program = (setCode: (code: number) => void): Command => {
  const cmd = new Command('hypergrad')
    .description('Hypergradients for bilevel optimization: AID, ITD, SID, error bounds, and the papers\' experiments')
    .version(libraryVersion())
    // Set before the subcommands are added, so that they inherit it: commander reports a usage
    // error as a CommanderError instead of exiting the process.
    .exitOverride()
    // Commander's messages can span lines ("error: …\n(Did you mean …?)"): one line each.
    .configureOutput({ writeErr: (s) => process.stderr.write(`hypergrad: ${oneLineText(s)}\n`) })
  cmd
    .command('estimate')
    .description('compute one hypergradient from a config file')
    .argument('<config>', 'JSON config (problem, data, lambda, method, seed)')
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no note on the estimated time')
    .addOption(maxHoursOption())
    .action(async (config: string, o: { json?: boolean; quiet?: boolean; maxHours?: number }) => {
      const { estimateCommand } = await import('./estimate.js')
      setCode(emit(estimateCommand(config, o, limitsOf(o))))
    })
  cmd
    .command('reproduce')
    .description('run one of the papers\' experiments; writes results.json, results.csv and SVG figures')
    .argument('[experiment]', 'an experiment name, or "list" to list them with their fields')
    .option('--list', 'list the experiments with their fields (the same as the name "list")')
    .option('--runs <n>', 'number of repeated runs', positiveInt('--runs'))
    .option('--epochs <list>', 'epoch budgets, comma separated (e.g. 2,10,60); one number E: the default budgets up to E')
    .option('--lambdas <list>', 'λ values, comma separated')
    .option('--set <field=value...>', 'any other field of the experiment (see `hypergrad reproduce list`)')
    .option('--out <dir>', 'output folder (default: out/<experiment>)')
    .option('--workers <n>', 'worker threads (default and at most: the number of cores)', positiveInt('--workers'))
    .option('--shard <i/n>', 'run slice i of n of the tasks and write shard-i-of-n.json (default folder out/<experiment>/shards); `hypergrad merge` puts the slices together', shardArg)
    .option('--quiet', 'no progress bar')
    .addOption(maxHoursOption())
    .action(async (named: string | undefined, o: { list?: boolean; runs?: number; epochs?: string; lambdas?: string; set?: string[]; out?: string; workers?: number; shard?: Shard; quiet?: boolean; maxHours?: number }) => {
      if (o.list === true && named !== undefined && named !== 'list')
        throw new UserError(`reproduce: --list lists the experiments; it takes no experiment name (got "${named}")`)
      if (o.list !== true && named === undefined) throw new UserError("reproduce: name an experiment, or list them with --list")
      const experiment = o.list === true ? 'list' : named!
      const { reproduceCommand } = await import('./reproduce.js')
      setCode(emit(await reproduceCommand(experiment, o, limitsOf(o), (interruptible) => progressBar(o.quiet === true, { interruptible }))))
    })
  cmd
    .command('merge')
    .description('put the slices of a sharded run (reproduce --shard i/n) together: the results.json, results.csv and figures of one run')
    .argument('<path...>', 'folders of shard-i-of-n.json files, or shard files')
    .option('--out <dir>', 'output folder (default: out/<experiment>)')
    .action(async (paths: string[], o: { out?: string }) => {
      const { mergeCommand } = await import('./merge.js')
      setCode(emit(await mergeCommand(paths, o)))
    })
  cmd
    .command('tune')
    .description('optimize λ with hypergradients (outer gradient descent or Adam)')
    .argument('<config>', 'JSON config: an estimate config plus an "outer" object')
    .option('--json', 'print one JSON object on stdout')
    .option('--out <dir>', 'also write tune.json, tune.csv and tune.svg there')
    .option('--quiet', 'no progress bar')
    .addOption(maxHoursOption())
    .action(async (config: string, o: { json?: boolean; out?: string; quiet?: boolean; maxHours?: number }) => {
      const { tuneCommand } = await import('./tune.js')
      setCode(emit(await tuneCommand(config, o, limitsOf(o), progressBar(o.quiet === true))))
    })
  return cmd
}

/** Run the command line; resolves to the exit status. `--debug` (anywhere) prints the stack of an internal fault. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const debug = argv.includes('--debug') || process.env['HYPERGRAD_DEBUG'] === '1'
  const args = argv.filter((a) => a !== '--debug')
  if (args.length === 0) {
    process.stderr.write('hypergrad: a command is needed: estimate, tune, reproduce or merge (hypergrad --help describes them)\n')
    return EXIT.input
  }
  let code: number = EXIT.ok
  const cmd = program((c) => (code = c))
  try {
    await cmd.parseAsync([...args], { from: 'user' })
    return code
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.input
    if (e instanceof UserError) {
      process.stderr.write(`hypergrad: ${oneLine(e)}\n`)
      return e.exitCode
    }
    if (e instanceof HypergradException) {
      process.stderr.write(`hypergrad: ${oneLine(e)}\n`)
      return exitCodeOf(e.error)
    }
    process.stderr.write(`hypergrad: internal error: ${oneLine(e)}${debug ? '' : ' (--debug prints the stack trace)'}\n`)
    if (debug && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`)
    return EXIT.internal
  }
}
