/**
 * The `hypergrad` command: estimate one hypergradient, reproduce the papers' experiments,
 * tune hyperparameters. A user's mistake prints one line on stderr and exits with status 2;
 * an internal failure exits with status 1 (set HYPERGRAD_DEBUG=1 for the stack trace).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { readFileSync } from 'node:fs'
import { estimateCommand } from './estimate.js'
import { oneLine, progressBar, UserError } from './io.js'
import { reproduceCommand } from './reproduce.js'
import { tuneCommand } from './tune.js'

const version = (): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

const positiveInt = (what: string) => (s: string): number => {
  const n = Number(s)
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`${what} must be an integer ≥ 1, got "${s}"`)
  return n
}

export const program = (): Command => {
  const cmd = new Command('hypergrad')
    .description('Hypergradients for bilevel optimization: AID, ITD, SID, error bounds, and the papers\' experiments')
    .version(version())
    // Set before the subcommands are added, so that they inherit it: commander reports a usage
    // error as a CommanderError instead of exiting the process.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  cmd
    .command('estimate')
    .description('compute one hypergradient from a config file')
    .argument('<config>', 'JSON config (problem, data, lambda, method, seed)')
    .option('--json', 'print one JSON object on stdout')
    .action((config: string, o: { json?: boolean }) => {
      process.stdout.write(estimateCommand(config, o) + '\n')
    })
  cmd
    .command('reproduce')
    .description('run one of the papers\' experiments; writes results.json, results.csv and SVG figures')
    .argument('<experiment>', 'an experiment name, or "list" to list them with their fields')
    .option('--runs <n>', 'number of repeated runs', positiveInt('--runs'))
    .option('--epochs <list>', 'epoch budgets, comma separated (e.g. 2,10,60); one number E: the default budgets up to E')
    .option('--lambdas <list>', 'λ values, comma separated')
    .option('--set <field=value...>', 'any other field of the experiment (see `hypergrad reproduce list`)')
    .option('--out <dir>', 'output folder (default: out/<experiment>)')
    .option('--workers <n>', 'worker threads (default: the number of cores)', positiveInt('--workers'))
    .option('--quiet', 'no progress bar')
    .action(async (experiment: string, o: { runs?: number; epochs?: string; lambdas?: string; set?: string[]; out?: string; workers?: number; quiet?: boolean }) => {
      process.stdout.write((await reproduceCommand(experiment, o, progressBar(o.quiet === true))) + '\n')
    })
  cmd
    .command('tune')
    .description('optimize λ with hypergradients (outer gradient descent or Adam)')
    .argument('<config>', 'JSON config: an estimate config plus an "outer" object')
    .option('--json', 'print one JSON object on stdout')
    .option('--out <dir>', 'also write tune.json, tune.csv and tune.svg there')
    .option('--quiet', 'no progress bar')
    .action(async (config: string, o: { json?: boolean; out?: string; quiet?: boolean }) => {
      process.stdout.write((await tuneCommand(config, o, progressBar(o.quiet === true))) + '\n')
    })
  return cmd
}

/** Run the command line; resolves to the exit status. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const cmd = program()
  try {
    await cmd.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2
    const user = e instanceof UserError || (e instanceof Error && e.name === 'HypergradException')
    process.stderr.write(`hypergrad: ${oneLine(e)}\n`)
    if (!user && process.env['HYPERGRAD_DEBUG'] === '1' && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`)
    return user ? 2 : 1
  }
}
